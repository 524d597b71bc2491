// Subscriptions: directory requests, consents and co-administrators.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl SubscriptionTx for DbTx {
    async fn insert_subscription(&mut self, s: &Subscription) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO subscriptions (id, name, owner_tenant_id, owner_user_id, state, directory_tenant_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id.as_uuid())
        .bind(s.name.as_str())
        .bind(s.owner_tenant_id.as_uuid())
        .bind(s.owner_user_id.as_uuid())
        .bind(s.state.as_str())
        .bind(s.directory_tenant_id.as_uuid())
        .bind(s.created_at.as_millis())
        .bind(s.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_subscription(&mut self, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        let sql = format!("SELECT {SUBSCRIPTION_COLS} FROM subscriptions s WHERE s.id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(subscription_from_row).transpose()
    }

    async fn update_subscription(&mut self, s: &Subscription) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE subscriptions SET name = $2, state = $3, directory_tenant_id = $4, updated_at = $5 WHERE id = $1")
            .bind(s.id.as_uuid())
            .bind(s.name.as_str())
            .bind(s.state.as_str())
            .bind(s.directory_tenant_id.as_uuid())
            .bind(s.updated_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_subscriptions_for_user(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<Subscription>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLS} FROM subscriptions s \
             WHERE (s.owner_tenant_id = $1 AND s.owner_user_id = $2) OR EXISTS ( \
               SELECT 1 FROM subscription_coadmins c WHERE c.subscription_id = s.id AND c.tenant_id = $1 AND c.user_id = $2) \
             ORDER BY s.created_at, s.id"
        );
        rows(sqlx::query(&sql).bind(tenant.as_uuid()).bind(user.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?, subscription_from_row)
    }

    async fn insert_directory_request(&mut self, r: &DirectoryRequest) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO subscription_directory_requests \
             (id, subscription_id, tenant_id, code_hash, requested_by, created_at, expires_at, consented_by, consented_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.id.as_uuid())
        .bind(r.subscription_id.as_uuid())
        .bind(r.tenant_id.as_uuid())
        .bind(&r.code_hash[..])
        .bind(r.requested_by.as_uuid())
        .bind(r.created_at.as_millis())
        .bind(r.expires_at.as_millis())
        .bind(r.consented_by.map(|u| u.as_uuid()))
        .bind(r.consented_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn find_directory_request_by_code(&mut self, code_hash: &[u8; 32]) -> Result<Option<DirectoryRequest>, StoreError> {
        let sql = format!("SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests WHERE code_hash = $1");
        let r = sqlx::query(&sql).bind(&code_hash[..]).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(directory_request_from_row).transpose()
    }

    async fn consent_directory_request(&mut self, id: DirectoryRequestId, by: UserId, at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE subscription_directory_requests SET consented_by = $2, consented_at = $3 \
             WHERE id = $1 AND consented_at IS NULL AND expires_at > $3",
        )
        .bind(id.as_uuid())
        .bind(by.as_uuid())
        .bind(at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn find_consented_directory_request(&mut self, subscription: SubscriptionId, tenant: TenantId, now: Timestamp) -> Result<Option<DirectoryRequest>, StoreError> {
        let sql = format!(
            "SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests \
             WHERE subscription_id = $1 AND tenant_id = $2 AND consented_at IS NOT NULL AND expires_at > $3 \
             ORDER BY consented_at DESC, id LIMIT 1"
        );
        let r = sqlx::query(&sql)
            .bind(subscription.as_uuid())
            .bind(tenant.as_uuid())
            .bind(now.as_millis())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(directory_request_from_row).transpose()
    }

    async fn delete_directory_requests(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_directory_requests WHERE subscription_id = $1")
            .bind(subscription.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn list_directory_requests(&mut self, subscription: SubscriptionId) -> Result<Vec<DirectoryRequest>, StoreError> {
        let sql = format!("SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests WHERE subscription_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(subscription.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, directory_request_from_row)
    }

    async fn insert_coadmin(&mut self, c: &Coadmin) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO subscription_coadmins (subscription_id, tenant_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(c.subscription_id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.user_id.as_uuid())
            .bind(c.added_by.as_uuid())
            .bind(c.added_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn delete_coadmin(&mut self, subscription: SubscriptionId, user: UserId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_coadmins WHERE subscription_id = $1 AND user_id = $2")
            .bind(subscription.as_uuid())
            .bind(user.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_coadmins(&mut self, subscription: SubscriptionId) -> Result<Vec<(Coadmin, User)>, StoreError> {
        let sql = format!(
            "SELECT c.subscription_id, c.added_by, c.added_at, {USER_COLS} FROM subscription_coadmins c \
             JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id \
             WHERE c.subscription_id = $1 ORDER BY u.upn_lower"
        );
        let rs = sqlx::query(&sql).bind(subscription.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rs.iter()
            .map(|r| {
                let u = user_from_row(r)?;
                let c = Coadmin {
                    subscription_id: SubscriptionId::from_uuid(r.try_get("subscription_id").map_err(map_err)?),
                    tenant_id: u.tenant_id,
                    user_id: u.id,
                    added_by: UserId::from_uuid(r.try_get("added_by").map_err(map_err)?),
                    added_at: Timestamp::from_millis(r.try_get("added_at").map_err(map_err)?),
                };
                Ok((c, u))
            })
            .collect()
    }

    async fn delete_coadmins(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_coadmins WHERE subscription_id = $1")
            .bind(subscription.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_app_coadmin(&mut self, c: &AppCoadmin) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO subscription_app_coadmins (subscription_id, tenant_id, application_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(c.subscription_id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.application_id.as_uuid())
            .bind(c.added_by.as_uuid())
            .bind(c.added_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn delete_app_coadmin(&mut self, subscription: SubscriptionId, application: ApplicationId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_app_coadmins WHERE subscription_id = $1 AND application_id = $2")
            .bind(subscription.as_uuid())
            .bind(application.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_app_coadmins(&mut self, subscription: SubscriptionId) -> Result<Vec<AppCoadmin>, StoreError> {
        let rs = sqlx::query(
            "SELECT subscription_id, tenant_id, application_id, added_by, added_at FROM subscription_app_coadmins \
             WHERE subscription_id = $1 ORDER BY added_at, application_id",
        )
        .bind(subscription.as_uuid())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rs.iter()
            .map(|r| {
                Ok(AppCoadmin {
                    subscription_id: SubscriptionId::from_uuid(r.try_get("subscription_id").map_err(map_err)?),
                    tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
                    application_id: ApplicationId::from_uuid(r.try_get("application_id").map_err(map_err)?),
                    added_by: UserId::from_uuid(r.try_get("added_by").map_err(map_err)?),
                    added_at: Timestamp::from_millis(r.try_get("added_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn list_subscriptions_for_app(&mut self, tenant: TenantId, application: ApplicationId) -> Result<Vec<Subscription>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLS} FROM subscriptions s JOIN subscription_app_coadmins c ON c.subscription_id = s.id \
             WHERE c.tenant_id = $1 AND c.application_id = $2 ORDER BY s.created_at, s.id"
        );
        rows(sqlx::query(&sql).bind(tenant.as_uuid()).bind(application.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?, subscription_from_row)
    }

    async fn delete_app_coadmins(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_app_coadmins WHERE subscription_id = $1")
            .bind(subscription.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
}
