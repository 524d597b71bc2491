// Passkeys (WebAuthn credentials) and their ceremonies in progress.
// Included once per backend by `base.rs` (see there).

use atrium_core::ids::{PasskeyCeremonyId, PasskeyId};
use atrium_core::model::{Passkey, PasskeyCeremony, PasskeyCeremonyKind};

fn passkey_row(r: &DbRow) -> Result<Passkey, StoreError> {
    Ok(Passkey {
        id: PasskeyId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
        name: r.try_get("name").map_err(map_err)?,
        credential_id: r.try_get("credential_id").map_err(map_err)?,
        credential: r.try_get("credential").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        last_used_at: opt_ts(r.try_get("last_used_at").map_err(map_err)?),
    })
}

#[async_trait]
impl PasskeyTx for DbTx {
    async fn insert_passkey(&mut self, p: &Passkey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO passkeys (id, tenant_id, user_id, name, credential_id, credential, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(p.id.as_uuid())
        .bind(p.tenant_id.as_uuid())
        .bind(p.user_id.as_uuid())
        .bind(&p.name)
        .bind(&p.credential_id)
        .bind(&p.credential)
        .bind(p.created_at.as_millis())
        .bind(p.last_used_at.map(|t| t.as_millis()))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_passkeys(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<Passkey>, StoreError> {
        let sql = "SELECT id, tenant_id, user_id, name, credential_id, credential, created_at, last_used_at FROM passkeys \
                   WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id";
        let rows = sqlx::query(sql).bind(tenant.as_uuid()).bind(user.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows.iter().map(passkey_row).collect()
    }

    async fn find_passkey_by_credential_id(&mut self, credential_id: &[u8]) -> Result<Option<Passkey>, StoreError> {
        let sql = "SELECT id, tenant_id, user_id, name, credential_id, credential, created_at, last_used_at FROM passkeys WHERE credential_id = $1";
        let r = sqlx::query(sql).bind(credential_id).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(passkey_row).transpose()
    }

    async fn rename_passkey(&mut self, tenant: TenantId, user: UserId, id: PasskeyId, name: &str) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE passkeys SET name = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(id.as_uuid())
            .bind(name)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_passkey(&mut self, tenant: TenantId, user: UserId, id: PasskeyId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_user_passkeys(&mut self, user: UserId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn record_passkey_use(&mut self, id: PasskeyId, credential: &[u8], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(credential)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_passkey_ceremony(&mut self, c: &PasskeyCeremony) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO passkey_ceremonies (id, kind, tenant_id, user_id, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(c.id.as_uuid())
            .bind(c.kind.as_str())
            .bind(c.tenant_id.map(|t| t.as_uuid()))
            .bind(c.user_id.map(|u| u.as_uuid()))
            .bind(&c.state)
            .bind(c.created_at.as_millis())
            .bind(c.expires_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn take_passkey_ceremony(&mut self, id: PasskeyCeremonyId) -> Result<Option<PasskeyCeremony>, StoreError> {
        let r = sqlx::query("DELETE FROM passkey_ceremonies WHERE id = $1 RETURNING kind, tenant_id, user_id, state, created_at, expires_at")
            .bind(id.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let kind: String = r.try_get("kind").map_err(map_err)?;
        Ok(Some(PasskeyCeremony {
            id,
            kind: PasskeyCeremonyKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("passkey ceremony kind '{kind}'")))?,
            tenant_id: r.try_get::<Option<Uuid>, _>("tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
            user_id: r.try_get::<Option<Uuid>, _>("user_id").map_err(map_err)?.map(UserId::from_uuid),
            state: r.try_get("state").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
        }))
    }

    async fn purge_passkey_ceremonies(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1").bind(now.as_millis()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }
}
