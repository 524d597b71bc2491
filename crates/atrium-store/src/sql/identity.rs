// Sessions, deployment settings, signing keys, authorization codes and refresh tokens.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl IdentityTx for DbTx {
    async fn insert_session(&mut self, s: &Session) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.id.as_uuid())
        .bind(&s.token_hash[..])
        .bind(s.user_id.as_uuid())
        .bind(s.tenant_id.as_uuid())
        .bind(s.created_at.as_millis())
        .bind(s.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_session_by_token_hash(&mut self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let r = sqlx::query("SELECT id, token_hash, user_id, tenant_id, created_at, expires_at FROM sessions WHERE token_hash = $1")
            .bind(&hash[..])
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&mut self, id: SessionId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_user_sessions(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64, StoreError> {
        // A nil UUID never names a session, so one query text covers "keep none".
        let keep = keep.map(|k| k.as_uuid()).unwrap_or(Uuid::nil());
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.as_uuid())
            .bind(keep)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn purge_expired_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn get_meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let r = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(self.c()).await.map_err(map_err)?;
        r.map(|r| r.try_get("value").map_err(map_err)).transpose()
    }

    async fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO signing_keys (kid, private_key_encrypted, certificate_der, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&k.kid)
            .bind(&k.private_key_encrypted)
            .bind(&k.certificate_der)
            .bind(k.created_at.as_millis())
            .bind(k.retired_at.map(Timestamp::as_millis))
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn list_signing_keys(&mut self, retired_after: Timestamp) -> Result<Vec<SigningKey>, StoreError> {
        let rs = sqlx::query(
            "SELECT kid, private_key_encrypted, certificate_der, created_at, retired_at FROM signing_keys \
             WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid",
        )
        .bind(retired_after.as_millis())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rs.iter()
            .map(|r| {
                Ok(SigningKey {
                    kid: r.try_get("kid").map_err(map_err)?,
                    private_key_encrypted: r.try_get("private_key_encrypted").map_err(map_err)?,
                    certificate_der: r.try_get("certificate_der").map_err(map_err)?,
                    created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
                    retired_at: opt_ts(r.try_get("retired_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn retire_signing_keys(&mut self, keep: &str, at: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL")
            .bind(keep)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_auth_code(&mut self, c: &AuthCode) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, tenant_id, client_id, user_id, redirect_uri, scope, nonce, code_challenge, \
             code_challenge_method, created_at, expires_at, redeemed_at, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&c.code_hash[..])
        .bind(c.tenant_id.as_uuid())
        .bind(c.client_id.as_uuid())
        .bind(c.user_id.as_uuid())
        .bind(&c.redirect_uri)
        .bind(&c.scope)
        .bind(c.nonce.as_deref())
        .bind(c.code_challenge.as_deref())
        .bind(c.code_challenge_method.as_deref())
        .bind(c.created_at.as_millis())
        .bind(c.expires_at.as_millis())
        .bind(c.redeemed_at.map(Timestamp::as_millis))
        .bind(&c.amr)
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn redeem_auth_code(&mut self, hash: &[u8; 32], now: Timestamp) -> Result<Option<(AuthCode, bool)>, StoreError> {
        // The UPDATE is the single point of truth: of two concurrent redemptions, one wins.
        let first = sqlx::query("UPDATE auth_codes SET redeemed_at = $2 WHERE code_hash = $1 AND redeemed_at IS NULL")
            .bind(&hash[..])
            .bind(now.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?
            .rows_affected()
            == 1;
        let r = sqlx::query(
            "SELECT code_hash, tenant_id, client_id, user_id, redirect_uri, scope, nonce, code_challenge, code_challenge_method, \
             created_at, expires_at, redeemed_at, amr FROM auth_codes WHERE code_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let code_hash: Vec<u8> = r.try_get("code_hash").map_err(map_err)?;
        let code = AuthCode {
            code_hash: code_hash.try_into().map_err(|_| StoreError::Corrupt("auth_codes.code_hash".into()))?,
            tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
            redirect_uri: r.try_get("redirect_uri").map_err(map_err)?,
            scope: r.try_get("scope").map_err(map_err)?,
            nonce: r.try_get("nonce").map_err(map_err)?,
            code_challenge: r.try_get("code_challenge").map_err(map_err)?,
            code_challenge_method: r.try_get("code_challenge_method").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
            redeemed_at: opt_ts(r.try_get("redeemed_at").map_err(map_err)?),
            amr: r.try_get("amr").map_err(map_err)?,
        };
        Ok(Some((code, first)))
    }

    async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, tenant_id, client_id, user_id, scope, created_at, expires_at, revoked_at, amr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&t.token_hash[..])
        .bind(t.family_id)
        .bind(t.tenant_id.as_uuid())
        .bind(t.client_id.as_uuid())
        .bind(t.user_id.as_uuid())
        .bind(&t.scope)
        .bind(t.created_at.as_millis())
        .bind(t.expires_at.as_millis())
        .bind(t.revoked_at.map(Timestamp::as_millis))
        .bind(&t.amr)
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_refresh_token(&mut self, hash: &[u8; 32]) -> Result<Option<RefreshToken>, StoreError> {
        let r = sqlx::query(
            "SELECT t.token_hash, t.family_id, t.tenant_id, t.client_id, t.user_id, t.scope, t.created_at, t.expires_at, \
                    COALESCE(t.revoked_at, f.revoked_at) AS revoked_at, t.amr \
             FROM refresh_tokens t LEFT JOIN revoked_refresh_families f ON f.family_id = t.family_id WHERE t.token_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let token_hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
        Ok(Some(RefreshToken {
            token_hash: token_hash.try_into().map_err(|_| StoreError::Corrupt("refresh_tokens.token_hash".into()))?,
            family_id: r.try_get("family_id").map_err(map_err)?,
            tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
            scope: r.try_get("scope").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
            revoked_at: opt_ts(r.try_get("revoked_at").map_err(map_err)?),
            amr: r.try_get("amr").map_err(map_err)?,
        }))
    }

    async fn revoke_refresh_token(&mut self, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(&hash[..])
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&mut self, family: Uuid, at: Timestamp) -> Result<u64, StoreError> {
        // Remembered for the family, so a token a racing request inserts later is refused too.
        sqlx::query("INSERT INTO revoked_refresh_families (family_id, revoked_at) VALUES ($1, $2) ON CONFLICT (family_id) DO NOTHING")
            .bind(family)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
            .bind(family)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn revoke_user_refresh_tokens(&mut self, user: UserId, at: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user.as_uuid())
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
}
