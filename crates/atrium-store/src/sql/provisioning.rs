// SCIM provisioning tokens.
// Included once per backend by `base.rs` (see there).

const TOKEN_COLS: &str = "id, tenant_id, name, token_hash, created_by, created_at, expires_at";

fn provisioning_token_from_row(r: &DbRow) -> Result<ProvisioningToken, StoreError> {
    let hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
    Ok(ProvisioningToken {
        id: ProvisioningTokenId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        name: r.try_get("name").map_err(map_err)?,
        token_hash: hash.try_into().map_err(|_| StoreError::Corrupt("provisioning_tokens.token_hash".into()))?,
        created_by: r.try_get::<Option<Uuid>, _>("created_by").map_err(map_err)?.map(UserId::from_uuid),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
    })
}

#[async_trait]
impl ProvisioningTx for DbTx {
    async fn insert_provisioning_token(&mut self, t: &ProvisioningToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provisioning_tokens (id, tenant_id, name, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id.as_uuid())
        .bind(t.tenant_id.as_uuid())
        .bind(&t.name)
        .bind(&t.token_hash[..])
        .bind(t.created_by.map(|u| u.as_uuid()))
        .bind(t.created_at.as_millis())
        .bind(t.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_provisioning_tokens(&mut self, tenant: TenantId) -> Result<Vec<ProvisioningToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM provisioning_tokens WHERE tenant_id = $1 ORDER BY created_at, id");
        rows(sqlx::query(&sql).bind(tenant.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?, provisioning_token_from_row)
    }

    async fn find_provisioning_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<ProvisioningToken>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM provisioning_tokens WHERE token_hash = $1");
        let r = sqlx::query(&sql).bind(&token_hash[..]).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(provisioning_token_from_row).transpose()
    }

    async fn delete_provisioning_token(&mut self, tenant: TenantId, id: ProvisioningTokenId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM provisioning_tokens WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
