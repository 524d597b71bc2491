// The audit log.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl AuditTx for DbTx {
    async fn insert_audit(&mut self, e: &AuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor_user_id, actor_tenant_id, action, target_type, target_id, tenant_id, details, account_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.as_uuid())
        .bind(e.at.as_millis())
        .bind(e.actor_user_id.map(|i| i.as_uuid()))
        .bind(e.actor_tenant_id.map(|i| i.as_uuid()))
        .bind(&e.action)
        .bind(&e.target_type)
        .bind(&e.target_id)
        .bind(e.tenant_id.map(|i| i.as_uuid()))
        .bind(&e.details)
        .bind(e.account_id.map(|i| i.as_uuid()))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_audit(&mut self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        // Each condition is pushed with its value, so placeholders and binds cannot drift apart.
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, at, actor_user_id, actor_tenant_id, action, target_type, target_id, tenant_id, details, account_id \
             FROM audit_events WHERE 1 = 1",
        );
        if let Some(v) = f.tenant_id {
            q.push(" AND tenant_id = ").push_bind(v.as_uuid());
        }
        if let Some(v) = f.account_id {
            q.push(" AND account_id = ").push_bind(v.as_uuid());
        }
        if let Some(v) = f.actor_user_id {
            q.push(" AND actor_user_id = ").push_bind(v.as_uuid());
        }
        if let Some(v) = &f.target_id {
            q.push(" AND target_id = ").push_bind(v.clone());
        }
        if let Some(v) = f.from {
            q.push(" AND at >= ").push_bind(v.as_millis());
        }
        if let Some(v) = f.to {
            q.push(" AND at < ").push_bind(v.as_millis());
        }
        q.push(" ORDER BY at DESC, id LIMIT ").push_bind(i64::from(f.limit));
        let rs = q.build().fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, audit_from_row)
    }
}
