// Guest invitations.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl InvitationTx for DbTx {
    async fn insert_invitation(&mut self, i: &Invitation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, account_id, user_id, email, email_lower, token_hash, status, redirect_url, \
             invited_by, resend_count, created_at, updated_at, expires_at, accepted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(i.id.as_uuid())
        .bind(i.tenant_id.as_uuid())
        .bind(i.account_id.map(|a| a.as_uuid()))
        .bind(i.user_id.as_uuid())
        .bind(i.email.as_str())
        .bind(i.email.normalized())
        .bind(&i.token_hash[..])
        .bind(i.status.as_str())
        .bind(i.redirect_url.as_deref())
        .bind(i.invited_by.map(|u| u.as_uuid()))
        .bind(i.resend_count)
        .bind(i.created_at.as_millis())
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.map(Timestamp::as_millis))
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }

    async fn find_invitation_by_token_hash(&mut self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
        let r = sqlx::query(&sql).bind(&hash[..]).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }

    async fn update_invitation(&mut self, i: &Invitation) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE invitations SET token_hash = $2, status = $3, resend_count = $4, updated_at = $5, expires_at = $6, accepted_at = $7 \
             WHERE id = $1",
        )
        .bind(i.id.as_uuid())
        .bind(&i.token_hash[..])
        .bind(i.status.as_str())
        .bind(i.resend_count)
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.map(Timestamp::as_millis))
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn accept_invitation(&mut self, id: InvitationId, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE invitations SET status = 'accepted', accepted_at = $3, updated_at = $3 \
             WHERE id = $1 AND token_hash = $2 AND status = 'pending'",
        )
        .bind(id.as_uuid())
        .bind(&hash[..])
        .bind(at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_invitations(&mut self, account: AccountId) -> Result<Vec<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE account_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(account.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, invitation_from_row)
    }

    async fn pending_invitation_of_user(&mut self, user: UserId) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE user_id = $1 AND status = 'pending'");
        let r = sqlx::query(&sql).bind(user.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }
}
