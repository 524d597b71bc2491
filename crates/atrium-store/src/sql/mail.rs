// The mail outbox.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl MailTx for DbTx {
    async fn insert_mail(&mut self, m: &Mail) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, locked_until, \
             last_error, created_at, sent_at, invitation_id, account_id, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(m.id.as_uuid())
        .bind(m.to.as_str())
        .bind(&m.subject)
        .bind(&m.body_text)
        .bind(&m.body_html)
        .bind(m.status.as_str())
        .bind(m.attempts)
        .bind(m.next_attempt_at.as_millis())
        .bind(m.locked_until.map(Timestamp::as_millis))
        .bind(m.last_error.as_deref())
        .bind(m.created_at.as_millis())
        .bind(m.sent_at.map(Timestamp::as_millis))
        .bind(m.invitation_id.map(|i| i.as_uuid()))
        .bind(m.account_id.map(|a| a.as_uuid()))
        .bind(m.tenant_id.map(|t| t.as_uuid()))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_mail(&mut self, id: MailId) -> Result<Option<Mail>, StoreError> {
        let sql = format!("SELECT {MAIL_COLS} FROM mail_outbox WHERE id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(mail_from_row).transpose()
    }

    async fn list_mail(&mut self, invitation: Option<InvitationId>, status: Option<MailStatus>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let sql = format!(
            "SELECT {MAIL_COLS} FROM mail_outbox WHERE ($1 IS NULL OR invitation_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, id LIMIT $3"
        );
        let rs = sqlx::query(&sql)
            .bind(invitation.map(|i| i.as_uuid()))
            .bind(status.map(MailStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn list_account_mail(&mut self, account: AccountId) -> Result<Vec<Mail>, StoreError> {
        let sql = format!("SELECT {MAIL_COLS} FROM mail_outbox WHERE account_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(account.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn claim_mail(&mut self, now: Timestamp, lease_until: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        // The rows are picked once, in a materialized CTE. As `id IN (subquery)`, PostgreSQL
        // may run the locking subquery again per row it updates, and each run sees the rows
        // just claimed as no longer due: a claim of 2 took 4 (`mail_claims_take_at_most_their_limit`).
        let sql = format!(
            "WITH picked AS MATERIALIZED (SELECT id FROM mail_outbox \
                 WHERE (status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND locked_until <= $1) \
                 ORDER BY next_attempt_at LIMIT $3{CLAIM_LOCK}) \
             UPDATE mail_outbox SET status = 'sending', locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM picked) \
             AND ((status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND locked_until <= $1)) \
             RETURNING {MAIL_COLS}"
        );
        let rs = sqlx::query(&sql)
            .bind(now.as_millis())
            .bind(lease_until.as_millis())
            .bind(i64::from(limit))
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn cancel_mail(&mut self, which: MailOf, at: Timestamp, reason: &str) -> Result<u64, StoreError> {
        let (filter, a, b) = match which {
            MailOf::Invitation(i) => ("invitation_id = $3", i.as_uuid(), None),
            MailOf::Tenant(t) => ("tenant_id = $3", t.as_uuid(), None),
            MailOf::AccountTenant(acc, t) => ("account_id = $3 AND tenant_id = $4", acc.as_uuid(), Some(t.as_uuid())),
        };
        let sql = format!(
            "UPDATE mail_outbox SET status = 'cancelled', last_error = $1, next_attempt_at = $2, body_text = '', body_html = '' \
             WHERE status = 'queued' AND {filter}"
        );
        let mut q = sqlx::query(&sql).bind(reason).bind(at.as_millis()).bind(a);
        if let Some(b) = b {
            q = q.bind(b);
        }
        let r = q.execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn finish_mail(&mut self, id: MailId, status: MailStatus, at: Timestamp, next_attempt_at: Timestamp, error: Option<&str>) -> Result<bool, StoreError> {
        let done = matches!(status, MailStatus::Sent | MailStatus::Dead);
        let r = sqlx::query(
            "UPDATE mail_outbox SET status = $2, locked_until = NULL, next_attempt_at = $3, last_error = $4, sent_at = $5, \
             body_text = CASE WHEN $6 THEN '' ELSE body_text END, body_html = CASE WHEN $6 THEN '' ELSE body_html END \
             WHERE id = $1 AND status = 'sending'",
        )
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(next_attempt_at.as_millis())
        .bind(error)
        .bind((status == MailStatus::Sent).then_some(at.as_millis()))
        .bind(done)
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn outbox_stats(&mut self) -> Result<atrium_core::ports::OutboxStats, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_outbox WHERE status IN ('queued', 'sending')")
            .fetch_one(self.c())
            .await
            .map_err(map_err)?;
        let n: i64 = r.try_get("n").map_err(map_err)?;
        let oldest: Option<i64> = r.try_get("oldest").map_err(map_err)?;
        Ok(atrium_core::ports::OutboxStats { pending: u64::try_from(n).unwrap_or(0), oldest_created_at: oldest.map(Timestamp::from_millis) })
    }
}
