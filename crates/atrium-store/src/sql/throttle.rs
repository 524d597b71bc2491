// Throttling counters, and the reset of a user's sign-in failures outside a sign-in.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl ThrottleTx for DbTx {
    async fn throttle_hit(&mut self, scope: &str, key: &str, window_start: Timestamp, expires_at: Timestamp) -> Result<i64, StoreError> {
        // An upsert that returns the count after it: concurrent hits are each counted once.
        let r = sqlx::query(
            "INSERT INTO throttle (scope, key, window_start, hits, expires_at) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT (scope, key, window_start) DO UPDATE SET hits = throttle.hits + 1 \
             RETURNING hits",
        )
        .bind(scope)
        .bind(key)
        .bind(window_start.as_millis())
        .bind(expires_at.as_millis())
        .fetch_one(self.c())
        .await
        .map_err(map_err)?;
        Ok(i64::from(r.try_get::<i32, _>("hits").map_err(map_err)?))
    }

    async fn throttle_refund(&mut self, scope: &str, key: &str, window_start: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE throttle SET hits = hits - 1 WHERE scope = $1 AND key = $2 AND window_start = $3 AND hits > 0")
            .bind(scope)
            .bind(key)
            .bind(window_start.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn throttle_count(&mut self, scope: &str, key: &str, window_start: Timestamp) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT hits FROM throttle WHERE scope = $1 AND key = $2 AND window_start = $3")
            .bind(scope)
            .bind(key)
            .bind(window_start.as_millis())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        match r {
            Some(r) => Ok(i64::from(r.try_get::<i32, _>("hits").map_err(map_err)?)),
            None => Ok(0),
        }
    }

    async fn purge_throttle(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM throttle WHERE expires_at < $1").bind(now.as_millis()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn finish_sign_in(&mut self, tenant: TenantId, id: UserId, passed: bool, threshold: i32, lock_until: Timestamp) -> Result<i32, StoreError> {
        let r = sqlx::query(
            "UPDATE users SET \
               sign_ins_in_flight = CASE WHEN sign_ins_in_flight > 0 THEN sign_ins_in_flight - 1 ELSE 0 END, \
               failed_sign_ins = CASE WHEN $3 THEN 0 ELSE failed_sign_ins + 1 END, \
               locked_until = CASE WHEN $3 THEN NULL WHEN failed_sign_ins + 1 >= $4 THEN $5 ELSE locked_until END \
             WHERE tenant_id = $1 AND id = $2 \
             RETURNING failed_sign_ins",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(passed)
        .bind(threshold)
        .bind(lock_until.as_millis())
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        r.map_or(Ok(0), |r| r.try_get("failed_sign_ins").map_err(map_err))
    }
}
