//! Application registrations and their client-secret keys.

use super::{Services, authz, details, opt};
use crate::actor::Actor;
use crate::domain::{AppIdUri, DisplayName, ReplyUrl};
use crate::error::{Error, ErrorCode};
use crate::ids::{ApplicationId, ClientId, KeyId, ServicePrincipalId, TenantId};
use crate::model::{AppKey, Application};
use crate::page::{ListQuery, Page};
use crate::query::{DirectoryQuery, ObjectKind};
use crate::ports::{StoreError, Tx};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Keys an application may hold at once (rotation needs at least two).
pub const MAX_KEYS_PER_APP: usize = 20;
/// Default and maximum key validity (Entra's maximum for client secrets).
pub const MAX_KEY_MONTHS: u32 = 24;

#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub display_name: String,
    pub reply_urls: Vec<String>,
    pub app_id_uri: Option<String>,
    pub public_client: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ApplicationPatch {
    pub display_name: Option<String>,
    pub reply_urls: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub app_id_uri: Option<Option<String>>,
    pub public_client: Option<bool>,
}

/// A new key: the value is returned this once and stored only as a SHA-256 hash.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: AppKey,
    pub client_id: ClientId,
    pub secret: Secret,
}

impl Services {
    pub async fn create_application(&self, actor: &Actor, tenant_id: TenantId, input: NewApplication) -> Result<Application, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let app = self.new_application(tenant_id, input)?;
        let tx = self.write().await?;
        let app = self.insert_application_in(tx, actor, app).await?;
        Ok(app)
    }

    /// Parses a new registration (nothing is written).
    pub(crate) fn new_application(&self, tenant_id: TenantId, input: NewApplication) -> Result<Application, Error> {
        let display_name = DisplayName::parse(&input.display_name, "displayName")?;
        let reply_urls = parse_reply_urls(&input.reply_urls)?;
        let app_id_uri = opt(input.app_id_uri.as_deref(), |s| AppIdUri::parse(s, "appIdUri"))?;
        let now = self.clock.now();
        let app = Application {
            id: ApplicationId::random(self.rng.as_ref()),
            client_id: ClientId::random(self.rng.as_ref()),
            service_principal_id: ServicePrincipalId::random(self.rng.as_ref()),
            tenant_id,
            display_name,
            reply_urls,
            app_id_uri,
            public_client: input.public_client,
            created_at: now,
            updated_at: now,
        };
        Ok(app)
    }

    /// Registers `app` in `tx` (R5: not on directory-sync tenants) with its audit event, and
    /// hands the transaction back uncommitted for the caller's further writes. A uniqueness
    /// clash ends the transaction and is explained by field.
    pub(crate) async fn insert_application_open(&self, mut tx: Box<dyn Tx>, actor: &Actor, app: &Application) -> Result<Box<dyn Tx>, Error> {
        let tenant = self.require_tenant(tx.as_mut(), app.tenant_id).await?;
        if tenant.directory_sync {
            return Err(ErrorCode::DirectorySyncEnabled.into());
        }
        if let Err(e) = tx.insert_application(app).await {
            drop(tx);
            return Err(self.explain_app_conflict(e, app).await);
        }
        tx.insert_audit(&self.audit(
            Some(actor),
            "application.create",
            "application",
            app.id,
            Some(app.tenant_id),
            details(&[("displayName", app.display_name.as_str()), ("appId", &app.client_id.to_string())]),
        ))
        .await?;
        Ok(tx)
    }

    async fn insert_application_in(&self, tx: Box<dyn Tx>, actor: &Actor, app: Application) -> Result<Application, Error> {
        let tx = self.insert_application_open(tx, actor, &app).await?;
        tx.commit().await?;
        Ok(app)
    }

    /// An application by object id or by client id (`appId`).
    pub async fn get_application(&self, actor: &Actor, tenant_id: TenantId, reference: &str) -> Result<Application, Error> {
        authz::tenant_reader(actor, tenant_id)?;
        let mut tx = self.read().await?;
        find_app(tx.as_mut(), tenant_id, reference).await
    }

    pub async fn list_applications(&self, actor: &Actor, tenant_id: TenantId, q: &ListQuery) -> Result<Page<Application>, Error> {
        authz::tenant_reader(actor, tenant_id)?;
        self.query_applications(actor, tenant_id, &DirectoryQuery::search(ObjectKind::Application, q)?).await
    }

    /// One page of the tenant's applications that match a directory query (REST `search` now;
    /// Graph `$filter` and SCIM `filter` parse into the same query).
    pub async fn query_applications(&self, actor: &Actor, tenant_id: TenantId, q: &DirectoryQuery) -> Result<Page<Application>, Error> {
        authz::tenant_reader(actor, tenant_id)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        let rows = tx.query_applications(tenant_id, q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    pub async fn update_application(&self, actor: &Actor, tenant_id: TenantId, reference: &str, patch: ApplicationPatch) -> Result<Application, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let display_name = opt(patch.display_name.as_deref(), |s| DisplayName::parse(s, "displayName"))?;
        let reply_urls = patch.reply_urls.as_deref().map(parse_reply_urls).transpose()?;
        let app_id_uri = match &patch.app_id_uri {
            None => None,
            Some(v) => Some(opt(v.as_deref(), |s| AppIdUri::parse(s, "appIdUri"))?),
        };
        let mut tx = self.write().await?;
        let mut app = find_app(tx.as_mut(), tenant_id, reference).await?;
        let mut changed: Vec<(&str, String)> = Vec::new();
        if let Some(v) = display_name {
            changed.push(("displayName", v.to_string()));
            app.display_name = v;
        }
        if let Some(v) = reply_urls {
            changed.push(("replyUrls", v.iter().map(ReplyUrl::as_str).collect::<Vec<_>>().join(" ")));
            app.reply_urls = v;
        }
        if let Some(v) = app_id_uri {
            changed.push(("appIdUri", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            app.app_id_uri = v;
        }
        if let Some(v) = patch.public_client {
            changed.push(("publicClient", v.to_string()));
            app.public_client = v;
        }
        app.updated_at = self.clock.now();
        if let Err(e) = tx.update_application(&app).await {
            drop(tx);
            return Err(self.explain_app_conflict(e, &app).await);
        }
        let pairs: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tx.insert_audit(&self.audit(Some(actor), "application.update", "application", app.id, Some(tenant_id), details(&pairs)))
            .await?;
        tx.commit().await?;
        Ok(app)
    }

    pub async fn delete_application(&self, actor: &Actor, tenant_id: TenantId, reference: &str) -> Result<(), Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let mut tx = self.write().await?;
        let app = find_app(tx.as_mut(), tenant_id, reference).await?;
        tx.delete_application(tenant_id, app.id).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "application.delete",
            "application",
            app.id,
            Some(tenant_id),
            details(&[("displayName", app.display_name.as_str())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Adds a client secret valid for `validity_months` (1–24, default 24).
    pub async fn add_application_key(
        &self,
        actor: &Actor,
        tenant_id: TenantId,
        reference: &str,
        display_name: Option<String>,
        validity_months: Option<u32>,
    ) -> Result<CreatedKey, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let months = validity_months.unwrap_or(MAX_KEY_MONTHS);
        if !(1..=MAX_KEY_MONTHS).contains(&months) {
            return Err(Error::new(ErrorCode::InvalidValidity).with_target("validityMonths"));
        }
        let display_name = display_name.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if display_name.as_ref().is_some_and(|s| s.chars().count() > 256 || s.chars().any(char::is_control)) {
            return Err(Error::new(ErrorCode::InvalidName).with_target("displayName"));
        }
        let mut tx = self.write().await?;
        let app = find_app(tx.as_mut(), tenant_id, reference).await?;
        if tx.list_app_keys(tenant_id, app.id).await?.len() >= MAX_KEYS_PER_APP {
            return Err(ErrorCode::TooManyKeys.into());
        }
        let secret = self.generate_client_secret();
        let now = self.clock.now();
        let key = AppKey {
            id: KeyId::random(self.rng.as_ref()),
            tenant_id,
            application_id: app.id,
            display_name,
            hint: secret.expose().chars().take(3).collect(),
            secret_hash: secret.sha256(),
            created_at: now,
            // Calendar months, as the portal shows them: a 12-month key made on 24 November
            // expires on 24 November of the next year.
            expires_at: now.plus_months(months),
        };
        tx.insert_app_key(&key).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "application.key.add",
            "application",
            app.id,
            Some(tenant_id),
            details(&[("keyId", &key.id.to_string()), ("hint", &key.hint), ("expiresAt", &key.expires_at.to_rfc3339())]),
        ))
        .await?;
        tx.commit().await?;
        Ok(CreatedKey { key, client_id: app.client_id, secret })
    }

    pub async fn list_application_keys(&self, actor: &Actor, tenant_id: TenantId, reference: &str) -> Result<Vec<AppKey>, Error> {
        authz::tenant_reader(actor, tenant_id)?;
        let mut tx = self.read().await?;
        let app = find_app(tx.as_mut(), tenant_id, reference).await?;
        tx.list_app_keys(tenant_id, app.id).await.map_err(Error::from)
    }

    pub async fn remove_application_key(&self, actor: &Actor, tenant_id: TenantId, reference: &str, key: KeyId) -> Result<(), Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let mut tx = self.write().await?;
        let app = find_app(tx.as_mut(), tenant_id, reference).await?;
        if !tx.delete_app_key(tenant_id, app.id, key).await? {
            return Err(Error::new(ErrorCode::KeyNotFound).with_target("keyId"));
        }
        tx.insert_audit(&self.audit(
            Some(actor),
            "application.key.remove",
            "application",
            app.id,
            Some(tenant_id),
            details(&[("keyId", &key.to_string())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// 40 characters like Entra's (`xxx8Q~...`): 30 random bytes in base64url. 240 bits of
    /// entropy, so SHA-256 at rest is enough; no slow hash needed.
    fn generate_client_secret(&self) -> Secret {
        let mut raw = [0u8; 30];
        self.rng.fill(&mut raw);
        Secret::new(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Names the field of a uniqueness conflict (the schema enforces it; this only reads).
    async fn explain_app_conflict(&self, e: StoreError, app: &Application) -> Error {
        if !matches!(e, StoreError::Conflict) {
            return Error::from(e);
        }
        let Ok(mut tx) = self.read().await else { return ErrorCode::ReplyUrlTaken.into() };
        if let Some(uri) = &app.app_id_uri
            && let Ok(Some(other)) = tx.find_application_by_app_id_uri(app.tenant_id, &uri.normalized()).await
            && other.id != app.id
        {
            return Error::new(ErrorCode::AppIdUriTaken)
                .with_message(format!("The App ID URI '{uri}' is already used by the application '{}'.", other.display_name))
                .with_target("appIdUri");
        }
        for (i, url) in app.reply_urls.iter().enumerate() {
            if let Ok(Some(other)) = tx.find_application_by_reply_url(app.tenant_id, &url.normalized()).await
                && other.id != app.id
            {
                return Error::new(ErrorCode::ReplyUrlTaken)
                    .with_message(format!("The Reply URL '{url}' is already used by the application '{}'.", other.display_name))
                    .with_target(format!("replyUrls[{i}]"));
            }
        }
        Error::new(ErrorCode::ReplyUrlTaken).with_target("replyUrls")
    }
}

fn parse_reply_urls(urls: &[String]) -> Result<Vec<ReplyUrl>, Error> {
    let mut out: Vec<ReplyUrl> = Vec::with_capacity(urls.len());
    for (i, u) in urls.iter().enumerate() {
        let url = ReplyUrl::parse(u, &format!("replyUrls[{i}]"))?;
        if out.iter().any(|o| o.normalized() == url.normalized()) {
            return Err(Error::new(ErrorCode::ReplyUrlTaken)
                .with_message("The same Reply URL is listed twice.")
                .with_target(format!("replyUrls[{i}]")));
        }
        out.push(url);
    }
    if out.len() > 100 {
        return Err(Error::new(ErrorCode::InvalidRequest).with_message("At most 100 Reply URLs.").with_target("replyUrls"));
    }
    Ok(out)
}

pub(crate) async fn find_app(tx: &mut dyn Tx, tenant_id: TenantId, reference: &str) -> Result<Application, Error> {
    let not_found = || Error::new(ErrorCode::ApplicationNotFound).with_target("applicationId");
    let id = uuid::Uuid::parse_str(reference.trim()).map_err(|_| {
        Error::new(ErrorCode::InvalidId).with_message("'applicationId' must be a GUID (object id or appId).").with_target("applicationId")
    })?;
    if let Some(a) = tx.get_application(tenant_id, ApplicationId::from_uuid(id)).await? {
        return Ok(a);
    }
    tx.find_application_by_client_id(tenant_id, ClientId::from_uuid(id)).await?.ok_or_else(not_found)
}
