// Sign-in logs. Included once per backend by `base.rs` (see there).

use atrium_core::sign_ins::{SignInEntry, SignInFilter, SignInKind};

const SIGN_IN_COLS: &str = "id, created_at, tenant_id, kind, user_id, user_principal_name, app_id, app_display_name, client_app_used, \
    error_code, failure_reason, mfa, ip_address, user_agent, correlation_id";

fn sign_in_from_row(r: &DbRow) -> Result<SignInEntry, StoreError> {
    let kind: String = r.try_get("kind").map_err(map_err)?;
    Ok(SignInEntry {
        id: r.try_get("id").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        kind: SignInKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("sign_in_logs.kind: {kind}")))?,
        user_id: r.try_get::<Option<Uuid>, _>("user_id").map_err(map_err)?.map(UserId::from_uuid),
        user_principal_name: r.try_get("user_principal_name").map_err(map_err)?,
        app_id: r.try_get("app_id").map_err(map_err)?,
        app_display_name: r.try_get("app_display_name").map_err(map_err)?,
        client_app_used: r.try_get("client_app_used").map_err(map_err)?,
        error_code: r.try_get("error_code").map_err(map_err)?,
        failure_reason: r.try_get("failure_reason").map_err(map_err)?,
        mfa: r.try_get("mfa").map_err(map_err)?,
        ip_address: r.try_get("ip_address").map_err(map_err)?,
        user_agent: r.try_get("user_agent").map_err(map_err)?,
        correlation_id: r.try_get("correlation_id").map_err(map_err)?,
    })
}

#[async_trait]
impl atrium_core::ports::store::SignInLogTx for DbTx {
    async fn insert_sign_ins(&mut self, batch: &[SignInEntry]) -> Result<(), StoreError> {
        for e in batch {
            sqlx::query(
                "INSERT INTO sign_in_logs (id, created_at, tenant_id, kind, user_id, user_principal_name, app_id, app_display_name, client_app_used, \
                 error_code, failure_reason, mfa, ip_address, user_agent, correlation_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(e.id)
            .bind(e.created_at.as_millis())
            .bind(e.tenant_id.as_uuid())
            .bind(e.kind.as_str())
            .bind(e.user_id.map(|u| u.as_uuid()))
            .bind(&e.user_principal_name)
            .bind(&e.app_id)
            .bind(&e.app_display_name)
            .bind(&e.client_app_used)
            .bind(e.error_code)
            .bind(&e.failure_reason)
            .bind(e.mfa)
            .bind(&e.ip_address)
            .bind(&e.user_agent)
            .bind(&e.correlation_id)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    async fn list_sign_ins(&mut self, f: &SignInFilter) -> Result<Vec<SignInEntry>, StoreError> {
        // Each condition is pushed with its value, so placeholders and binds cannot drift apart.
        let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {SIGN_IN_COLS} FROM sign_in_logs WHERE 1 = 1"));
        if let Some(v) = f.tenant_id {
            q.push(" AND tenant_id = ").push_bind(v.as_uuid());
        }
        if let Some(v) = f.user_id {
            q.push(" AND user_id = ").push_bind(v.as_uuid());
        }
        if let Some(v) = &f.app_id {
            q.push(" AND app_id = ").push_bind(v.clone());
        }
        match f.success {
            Some(true) => {
                q.push(" AND error_code = 0");
            }
            Some(false) => {
                q.push(" AND error_code <> 0");
            }
            None => {}
        }
        if let Some(v) = f.from {
            q.push(" AND created_at >= ").push_bind(v.as_millis());
        }
        if let Some(v) = f.to {
            q.push(" AND created_at < ").push_bind(v.as_millis());
        }
        if let Some(v) = f.id {
            q.push(" AND id = ").push_bind(v);
        }
        if let Some((at, id)) = f.after {
            q.push(" AND (created_at < ").push_bind(at.as_millis());
            q.push(" OR (created_at = ").push_bind(at.as_millis()).push(" AND id < ").push_bind(id).push("))");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit) + 1);
        let rs = q.build().fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, sign_in_from_row)
    }

    async fn purge_sign_ins(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM sign_in_logs WHERE created_at < $1")
            .bind(before.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|r| r.rows_affected())
    }
}
