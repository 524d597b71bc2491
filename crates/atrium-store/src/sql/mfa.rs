// Multi-factor sign-in: TOTP authenticators, recovery codes, the tenant policy.
// Included once per backend by `base.rs` (see there).

use atrium_core::model::TotpMethod;

#[async_trait]
impl MfaTx for DbTx {
    async fn get_totp(&mut self, tenant: TenantId, user: UserId) -> Result<Option<TotpMethod>, StoreError> {
        let r = sqlx::query("SELECT secret, secret_sealed, confirmed_at, last_step, created_at FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        Ok(Some(TotpMethod {
            user_id: user,
            tenant_id: tenant,
            secret: r.try_get("secret").map_err(map_err)?,
            sealed: r.try_get("secret_sealed").map_err(map_err)?,
            confirmed_at: opt_ts(r.try_get("confirmed_at").map_err(map_err)?),
            last_step: r.try_get("last_step").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        }))
    }

    async fn put_pending_totp(&mut self, t: &TotpMethod) -> Result<bool, StoreError> {
        // A confirmed authenticator is never overwritten here: it must be removed first.
        let r = sqlx::query(
            "INSERT INTO mfa_totp (user_id, tenant_id, secret, secret_sealed, confirmed_at, last_step, created_at) VALUES ($1, $2, $3, $6, NULL, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, secret_sealed = excluded.secret_sealed, confirmed_at = NULL, \
             last_step = excluded.last_step, created_at = excluded.created_at WHERE mfa_totp.confirmed_at IS NULL",
        )
        .bind(t.user_id.as_uuid())
        .bind(t.tenant_id.as_uuid())
        .bind(&t.secret)
        .bind(t.last_step)
        .bind(t.created_at.as_millis())
        .bind(t.sealed)
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn confirm_totp(&mut self, user: UserId, step: i64, at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE mfa_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL AND last_step < $3")
            .bind(user.as_uuid())
            .bind(at.as_millis())
            .bind(step)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn use_totp_step(&mut self, user: UserId, step: i64) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2")
            .bind(user.as_uuid())
            .bind(step)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn seal_totp_secret(&mut self, user: UserId, sealed: &[u8]) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE mfa_totp SET secret = $2, secret_sealed = TRUE WHERE user_id = $1 AND secret_sealed = FALSE")
            .bind(user.as_uuid())
            .bind(sealed)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_unsealed_totp(&mut self, limit: u32) -> Result<Vec<TotpMethod>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, tenant_id, secret, confirmed_at, last_step, created_at FROM mfa_totp WHERE secret_sealed = FALSE ORDER BY user_id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(TotpMethod {
                    user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
                    tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
                    secret: r.try_get("secret").map_err(map_err)?,
                    sealed: false,
                    confirmed_at: opt_ts(r.try_get("confirmed_at").map_err(map_err)?),
                    last_step: r.try_get("last_step").map_err(map_err)?,
                    created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn replace_recovery_codes(&mut self, tenant: TenantId, user: UserId, hashes: &[[u8; 32]]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
            .bind(user.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        for h in hashes {
            sqlx::query("INSERT INTO mfa_recovery_codes (user_id, tenant_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)")
                .bind(user.as_uuid())
                .bind(tenant.as_uuid())
                .bind(&h[..])
                .execute(self.c())
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn use_recovery_code(&mut self, user: UserId, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
            .bind(user.as_uuid())
            .bind(&hash[..])
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn count_unused_recovery_codes(&mut self, user: UserId) -> Result<u32, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user.as_uuid())
            .fetch_one(self.c())
            .await
            .map_err(map_err)?;
        let n: i64 = r.try_get("n").map_err(map_err)?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    async fn delete_mfa(&mut self, user: UserId) -> Result<bool, StoreError> {
        let a = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1").bind(user.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        let b = sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        Ok(a.rows_affected() + b.rows_affected() > 0)
    }

    async fn get_mfa_policy(&mut self, tenant: TenantId) -> Result<bool, StoreError> {
        let r = sqlx::query("SELECT require_global_admins FROM mfa_policies WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        match r {
            Some(r) => r.try_get("require_global_admins").map_err(map_err),
            None => Ok(false),
        }
    }

    async fn set_mfa_policy(&mut self, tenant: TenantId, require_global_admins: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mfa_policies (tenant_id, require_global_admins) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO UPDATE SET require_global_admins = excluded.require_global_admins",
        )
        .bind(tenant.as_uuid())
        .bind(require_global_admins)
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }
}
