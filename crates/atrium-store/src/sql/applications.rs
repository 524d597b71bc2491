// App registrations, their Reply URLs and client-secret keys. Included once per backend by
// `base.rs` (see there).

use atrium_core::query::{DirectoryQuery, ObjectKind};

#[async_trait]
impl ApplicationTx for DbTx {
    async fn insert_application(&mut self, a: &Application) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applications (id, client_id, service_principal_id, tenant_id, display_name, display_name_lower, app_id_uri, \
             app_id_uri_lower, public_client, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.as_uuid())
        .bind(a.client_id.as_uuid())
        .bind(a.service_principal_id.as_uuid())
        .bind(a.tenant_id.as_uuid())
        .bind(a.display_name.as_str())
        .bind(a.display_name.as_str().to_lowercase())
        .bind(a.app_id_uri.as_ref().map(|u| u.as_str()))
        .bind(a.app_id_uri.as_ref().map(|u| u.normalized()))
        .bind(a.public_client)
        .bind(a.created_at.as_millis())
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        self.insert_reply_urls(a).await
    }

    async fn get_application(&mut self, tenant: TenantId, id: ApplicationId) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.id = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_client_id(&mut self, tenant: TenantId, client_id: ClientId) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.client_id = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(client_id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_app_id_uri(&mut self, tenant: TenantId, uri_normalized: &str) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.app_id_uri_lower = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(uri_normalized).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_reply_url(&mut self, tenant: TenantId, url_normalized: &str) -> Result<Option<Application>, StoreError> {
        let sql = format!(
            "SELECT {APP_COLS} FROM applications a JOIN app_reply_urls r ON r.tenant_id = a.tenant_id AND r.application_id = a.id \
             WHERE a.tenant_id = $1 AND r.url_lower = $2"
        );
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(url_normalized).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn update_application(&mut self, a: &Application) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE applications SET display_name = $3, display_name_lower = $4, app_id_uri = $5, app_id_uri_lower = $6, \
             public_client = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(a.tenant_id.as_uuid())
        .bind(a.id.as_uuid())
        .bind(a.display_name.as_str())
        .bind(a.display_name.as_str().to_lowercase())
        .bind(a.app_id_uri.as_ref().map(|u| u.as_str()))
        .bind(a.app_id_uri.as_ref().map(|u| u.normalized()))
        .bind(a.public_client)
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM app_reply_urls WHERE tenant_id = $1 AND application_id = $2")
            .bind(a.tenant_id.as_uuid())
            .bind(a.id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        self.insert_reply_urls(a).await?;
        Ok(true)
    }

    async fn delete_application(&mut self, tenant: TenantId, id: ApplicationId) -> Result<bool, StoreError> {
        self.delete_memberships_of(id.as_uuid()).await?;
        let r = sqlx::query("DELETE FROM applications WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn query_applications(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<Vec<Application>, StoreError> {
        let c = super::query::compile(q, &[ObjectKind::Application, ObjectKind::ServicePrincipal], tenant)?;
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE {}", c.clause);
        let rs = super::query::bind(sqlx::query(&sql), c.binds).fetch_all(self.c()).await.map_err(map_err)?;
        let mut apps = Vec::with_capacity(rs.len());
        for r in rs {
            if let Some(a) = self.app_with_urls(Some(r)).await? {
                apps.push(a);
            }
        }
        Ok(apps)
    }

    async fn insert_app_key(&mut self, k: &AppKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_keys (id, tenant_id, application_id, display_name, hint, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(k.id.as_uuid())
        .bind(k.tenant_id.as_uuid())
        .bind(k.application_id.as_uuid())
        .bind(k.display_name.as_deref())
        .bind(&k.hint)
        .bind(&k.secret_hash[..])
        .bind(k.created_at.as_millis())
        .bind(k.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_app_keys(&mut self, tenant: TenantId, app: ApplicationId) -> Result<Vec<AppKey>, StoreError> {
        let rs = sqlx::query(
            "SELECT id, tenant_id, application_id, display_name, hint, secret_hash, created_at, expires_at FROM app_keys \
             WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(app.as_uuid())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rows(rs, key_from_row)
    }

    async fn delete_app_key(&mut self, tenant: TenantId, app: ApplicationId, key: KeyId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM app_keys WHERE tenant_id = $1 AND application_id = $2 AND id = $3")
            .bind(tenant.as_uuid())
            .bind(app.as_uuid())
            .bind(key.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}

impl DbTx {
    async fn insert_reply_urls(&mut self, a: &Application) -> Result<(), StoreError> {
        for (i, url) in a.reply_urls.iter().enumerate() {
            sqlx::query("INSERT INTO app_reply_urls (tenant_id, application_id, position, url, url_lower) VALUES ($1, $2, $3, $4, $5)")
                .bind(a.tenant_id.as_uuid())
                .bind(a.id.as_uuid())
                .bind(i as i32)
                .bind(url.as_str())
                .bind(url.normalized())
                .execute(self.c())
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// Completes an application row with its Reply URLs.
    async fn app_with_urls(&mut self, r: Option<DbRow>) -> Result<Option<Application>, StoreError> {
        let Some(r) = r else { return Ok(None) };
        let id = ApplicationId::from_uuid(r.try_get("id").map_err(map_err)?);
        let tenant_id = TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?);
        let urls = sqlx::query("SELECT url FROM app_reply_urls WHERE tenant_id = $1 AND application_id = $2 ORDER BY position")
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        let reply_urls = urls
            .iter()
            .map(|u| {
                let s: String = u.try_get("url").map_err(map_err)?;
                ReplyUrl::parse(&s, "url").map_err(corrupt("app_reply_urls.url"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Application {
            id,
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            service_principal_id: ServicePrincipalId::from_uuid(r.try_get("service_principal_id").map_err(map_err)?),
            tenant_id,
            display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
                .map_err(corrupt("applications.display_name"))?,
            reply_urls,
            app_id_uri: opt_parse(r.try_get("app_id_uri").map_err(map_err)?, |s| AppIdUri::parse(s, "app_id_uri"), "applications.app_id_uri")?,
            public_client: r.try_get("public_client").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        }))
    }
}
