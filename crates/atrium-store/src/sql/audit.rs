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
        // Conditions are fixed SQL fragments; only their values are bound.
        let mut conds: Vec<String> = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if f.tenant_id.is_some() {
            conds.push(format!("tenant_id = ${}", next()));
        }
        if f.account_id.is_some() {
            conds.push(format!("account_id = ${}", next()));
        }
        if f.actor_user_id.is_some() {
            conds.push(format!("actor_user_id = ${}", next()));
        }
        if f.target_id.is_some() {
            conds.push(format!("target_id = ${}", next()));
        }
        if f.from.is_some() {
            conds.push(format!("at >= ${}", next()));
        }
        if f.to.is_some() {
            conds.push(format!("at < ${}", next()));
        }
        let limit_param = next();
        let where_ = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!(
            "SELECT id, at, actor_user_id, actor_tenant_id, action, target_type, target_id, tenant_id, details, account_id \
             FROM audit_events {where_} ORDER BY at DESC, id LIMIT ${limit_param}"
        );
        let mut q = sqlx::query(&sql);
        if let Some(v) = f.tenant_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = f.account_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = f.actor_user_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = &f.target_id {
            q = q.bind(v.clone());
        }
        if let Some(v) = f.from {
            q = q.bind(v.as_millis());
        }
        if let Some(v) = f.to {
            q = q.bind(v.as_millis());
        }
        let rs = q.bind(i64::from(f.limit)).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, audit_from_row)
    }
}
