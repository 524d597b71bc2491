//! The grants of the token endpoint and the authorize step.

use super::errors::OAuthError;
use super::request::{AuthorizeRequest, ClientAuth, TokenGrant, TokenRequest};
use super::scopes::{DelegatedScopes, Resource, parse_delegated};
use super::Endpoint;
use crate::percent;
use crate::error::ErrorCode;
use crate::ids::ClientId;
use crate::model::{Application, AuthCode, RefreshToken, User};
use crate::ports::Tx;
use crate::secret::{Secret, constant_time_eq, sha256};
use crate::services::Services;
use crate::services::details;
use crate::services::mfa::Amr;
use crate::services::throttle::ThrottleScope;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

const CODE_PREFIX: &str = "atrc_";
const REFRESH_PREFIX: &str = "atrr_";

/// A successful token response, in Entra's field order and names.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub expires_in: i64,
    pub ext_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_info: Option<String>,
    /// Who signed in, for the sign-in log (never serialized).
    #[serde(skip)]
    pub subject: TokenSubject,
}

/// The application and user a token was issued to, as the sign-in log names them.
#[derive(Debug, Clone, Default)]
pub struct TokenSubject {
    pub app_display_name: Option<String>,
    /// The user's id and UPN; `None` for app-only tokens.
    pub user: Option<(crate::ids::UserId, String)>,
    /// The user's sign-in had a second factor (the code or refresh token carries it).
    pub mfa: bool,
}

/// Why `/authorize` stopped: errors about the client or the redirect URI are shown on a page
/// (never redirected to an unverified URI); others go back to the app's redirect URI.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    Show(OAuthError),
    Redirect(String),
    /// Wrong credentials: show the sign-in form again with this message, for this app.
    Credentials { message: String, app_name: String },
    /// The password was right and a second factor is needed: show the code step with this
    /// challenge (and `message` after a wrong code).
    SecondFactor { challenge: String, app_name: String, message: Option<String> },
}

/// The resource a token is for, resolved in the tenant.
struct Audience {
    aud: String,
    /// Graph tokens are v1.0; tokens for the tenant's own APIs are v2.0.
    v1: bool,
    /// The identifier to echo as `resource` in v1 responses.
    resource: String,
    /// Microsoft Graph (Atrium's `/v1.0`): app-only tokens carry the app's Graph permissions.
    graph: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Services {
    /// Resolves the tenant of an identity-platform URL (GUID or domain).
    pub async fn identity_endpoint(&self, tenant: &str, base_url: &str) -> Result<Endpoint, OAuthError> {
        match self.resolve_tenant(tenant).await {
            Ok(t) => Ok(Endpoint { base_url: base_url.trim_end_matches('/').to_owned(), tenant: t, source: None }),
            Err(e) if e.code == ErrorCode::TenantNotFound => Err(OAuthError::unknown_tenant(tenant)),
            Err(e) => Err(OAuthError::server_error(&e.message)),
        }
    }

    /// The token endpoint for `tenant` (GUID or domain, as in the URL). `req` is what the
    /// adapter parsed from the form, or the OAuth error the parameters gave: that error is only
    /// returned once the tenant is found, because an unknown tenant is reported first.
    ///
    /// `source` is the client's address: failed client authentication is throttled per client
    /// id and per address.
    pub async fn token(&self, tenant: &str, base_url: &str, source: Option<&str>, req: Result<TokenRequest, OAuthError>) -> Result<TokenResponse, OAuthError> {
        // One read handle serves every lookup of a client-credentials request (tenant, client,
        // keys, resource). Grants that also write or hash a password release it first: holding
        // one pooled connection while waiting for another can exhaust the pool under load.
        let mut handle = self.read().await.map_err(|e| OAuthError::server_error(&e.message))?;
        let tx = handle.as_mut();
        let found = match crate::ids::TenantId::parse(tenant, "tenant") {
            Ok(id) => tx.get_tenant(id).await,
            Err(_) => match crate::domain::TenantDomain::parse(tenant) {
                Ok(d) => tx.find_tenant_by_domain(d.as_str()).await,
                Err(_) => Ok(None),
            },
        };
        let t = found?.ok_or_else(|| OAuthError::unknown_tenant(tenant))?;
        let ep = &Endpoint { base_url: base_url.trim_end_matches('/').to_owned(), tenant: t, source: source.map(str::to_owned) };
        let TokenRequest { grant, client, v1 } = req?;
        let (kind, username) = sign_in_kind(&grant);
        let result = match grant {
            TokenGrant::ClientCredentials { resource } => {
                let r = self.client_credentials(tx, ep, &client, &resource, v1).await;
                drop(handle);
                r
            }
            TokenGrant::Password { username, password, scopes } => {
                drop(handle);
                self.password_grant(ep, &client, &username, &password, &scopes, v1).await
            }
            TokenGrant::AuthorizationCode { code, redirect_uri, code_verifier, scope } => {
                drop(handle);
                self.authorization_code_grant(ep, &client, &code, &redirect_uri, code_verifier.as_ref(), scope.as_deref(), v1).await
            }
            TokenGrant::RefreshToken { refresh_token, scope } => {
                drop(handle);
                self.refresh_token_grant(ep, &client, &refresh_token, scope.as_deref(), v1).await
            }
        };
        self.log_sign_in(self.token_sign_in_entry(ep, kind, client.client_id(), username.as_deref(), &result)).await;
        // A wrong client secret counts toward throttling, per client id and per address.
        if let Err(e) = &result
            && e.code == 7000215
        {
            self.throttle_hit(ThrottleScope::ClientAuthPerClient, client.client_id()).await.map_err(|e| OAuthError::from_service(&e))?;
            if let Some(addr) = &ep.source {
                self.throttle_hit(ThrottleScope::ClientAuthPerAddress, addr).await.map_err(|e| OAuthError::from_service(&e))?;
            }
        }
        result
    }

    /// Finds the client and checks its secret. Client secrets are compared by SHA-256 in
    /// constant time: a 240-bit random value needs no slow hash, so this never touches argon2.
    async fn authenticate_client(&self, tx: &mut dyn Tx, ep: &Endpoint, client: &ClientAuth, secret_required: bool) -> Result<Application, OAuthError> {
        let app = self.find_client(tx, ep, client.client_id()).await?;
        let Some(secret) = client.secret() else {
            return if secret_required || !app.public_client { Err(OAuthError::missing_secret()) } else { Ok(app) };
        };
        // Throttled before the secret is compared, so the right secret waits too: a guesser
        // cannot learn that a guess was right while the client is throttled.
        let client_key = app.client_id.to_string();
        // (On the caller's handle: waiting for a second pooled connection could starve the pool.)
        self.throttle_check_in(tx, ThrottleScope::ClientAuthPerClient, &client_key).await.map_err(|e| OAuthError::from_service(&e))?;
        if let Some(addr) = &ep.source {
            self.throttle_check_in(tx, ThrottleScope::ClientAuthPerAddress, addr).await.map_err(|e| OAuthError::from_service(&e))?;
        }
        let keys = tx.list_app_keys(ep.tenant.id, app.id).await?;
        let presented = secret.sha256();
        let mut matched = None;
        for k in &keys {
            // Every key is compared, so the time taken does not tell which one matched.
            if constant_time_eq(&k.secret_hash, &presented) {
                matched = Some(k);
            }
        }
        match matched {
            Some(k) if k.expires_at <= self.clock.now() => Err(OAuthError::expired_secret(&app.client_id.to_string())),
            Some(_) => Ok(app),
            // Counted by `token` once the read handle is released.
            None => Err(OAuthError::invalid_secret(&client_key)),
        }
    }

    async fn find_client(&self, tx: &mut dyn Tx, ep: &Endpoint, client_id: &str) -> Result<Application, OAuthError> {
        let unknown = || OAuthError::unknown_client(client_id, &ep.tenant.id.to_string());
        let id = ClientId::parse(client_id, "client_id").map_err(|_| unknown())?;
        tx.find_application_by_client_id(ep.tenant.id, id)
            .await?
            .ok_or_else(unknown)
    }

    /// Resolves a resource identifier in the tenant: Graph, or one of the tenant's apps by App
    /// ID URI, `api://<appId>` or `<appId>`.
    async fn audience(&self, tx: &mut dyn Tx, ep: &Endpoint, resource: &Resource) -> Result<Audience, OAuthError> {
        match resource {
            Resource::Graph { audience } => Ok(Audience { aud: audience.clone(), v1: true, resource: audience.clone(), graph: true }),
            Resource::AccountApi { audience } => Ok(Audience { aud: audience.clone(), v1: true, resource: audience.clone(), graph: false }),
            Resource::Arm { audience } => Ok(Audience { aud: audience.clone(), v1: true, resource: audience.clone(), graph: false }),
            // This server's own base URL names its Graph: the ARM metadata hands it to the Azure
            // CLI as `microsoftGraphResourceId`.
            Resource::App { identifier } if identifier.trim_end_matches('/').eq_ignore_ascii_case(ep.base_url.trim_end_matches('/')) => {
                let aud = format!("{}/", ep.base_url.trim_end_matches('/'));
                Ok(Audience { aud: aud.clone(), v1: true, resource: aud, graph: true })
            }
            Resource::App { identifier } => {
                let by_uri = tx
                    .find_application_by_app_id_uri(ep.tenant.id, &identifier.to_lowercase())
                    .await?;
                let app = match by_uri {
                    Some(a) => Some(a),
                    None => {
                        let guid = identifier.strip_prefix("api://").unwrap_or(identifier);
                        match ClientId::parse(guid, "resource") {
                            Ok(cid) => tx
                                .find_application_by_client_id(ep.tenant.id, cid)
                                .await?,
                            Err(_) => None,
                        }
                    }
                };
                let app = app.ok_or_else(|| OAuthError::unknown_resource(identifier, &ep.tenant.id.to_string()))?;
                Ok(Audience { aud: app.client_id.to_string(), v1: false, resource: identifier.clone(), graph: false })
            }
        }
    }

    async fn client_credentials(&self, tx: &mut dyn Tx, ep: &Endpoint, client: &ClientAuth, resource: &Resource, v1_endpoint: bool) -> Result<TokenResponse, OAuthError> {
        let app = self.authenticate_client(tx, ep, client, true).await?;
        let aud = self.audience(tx, ep, resource).await?;
        if matches!(resource, Resource::AccountApi { .. }) {
            // R13: only applications that are members of an account get account-API tokens.
            let member = tx
                .is_member_anywhere(crate::model::PrincipalRef::Application(app.id))
                .await?;
            if !member {
                return Err(OAuthError::not_an_account_member(&app.client_id.to_string()));
            }
        }
        let v1 = v1_endpoint || aud.v1;
        let now = self.clock.now().as_millis() / 1000;
        let exp = now + self.policy.access_token_seconds;
        let mut claims = self.base_claims(ep, &aud.aud, v1, now, exp);
        let sp = app.service_principal_id.to_string();
        let cid = app.client_id.to_string();
        if let Value::Object(m) = &mut claims {
            m.insert("oid".into(), json!(sp));
            m.insert("sub".into(), json!(sp));
            m.insert("idtyp".into(), json!("app"));
            if v1 {
                m.insert("appid".into(), json!(cid));
                m.insert("appidacr".into(), json!("1"));
            } else {
                m.insert("azp".into(), json!(cid));
                m.insert("azpacr".into(), json!("1"));
            }
            if aud.graph {
                // The Graph application permissions granted to the app (admin consent); Entra
                // leaves the claim out when there are none.
                let roles: Vec<&str> = crate::services::graph_access::graph_grants(tx, ep.tenant.id, app.id)
                    .await
                    .map_err(|e| OAuthError::server_error(&e.message))?
                    .iter()
                    .map(|g| g.permission.value())
                    .collect();
                if !roles.is_empty() {
                    m.insert("roles".into(), json!(roles));
                }
            }
        }
        let access_token = self.sign(&claims)?;
        Ok(TokenResponse {
            token_type: "Bearer",
            scope: None,
            expires_in: self.policy.access_token_seconds,
            ext_expires_in: self.policy.access_token_seconds,
            expires_on: v1_endpoint.then(|| exp.to_string()),
            not_before: v1_endpoint.then(|| now.to_string()),
            resource: v1_endpoint.then(|| aud.resource.clone()),
            access_token,
            refresh_token: None,
            id_token: None,
            client_info: None,
            subject: TokenSubject { app_display_name: Some(app.display_name.to_string()), user: None, mfa: false },
        })
    }

    /// A short-lived read handle for the lookups of one step.
    async fn reader(&self) -> Result<Box<dyn Tx>, OAuthError> {
        self.read().await.map_err(|e| OAuthError::server_error(&e.message))
    }

    #[allow(clippy::too_many_arguments)]
    async fn password_grant(
        &self,
        ep: &Endpoint,
        client: &ClientAuth,
        username: &str,
        password: &Secret,
        scopes: &DelegatedScopes,
        v1_endpoint: bool,
    ) -> Result<TokenResponse, OAuthError> {
        let (app, aud) = {
            let mut h = self.reader().await?;
            let app = self.authenticate_client(h.as_mut(), ep, client, false).await?;
            (app, self.audience(h.as_mut(), ep, &scopes.resource).await?)
        };
        let user = self.user_sign_in(ep, username, password).await?;
        // ROPC has no place for a second factor, so a user who needs one is refused (as Entra does).
        if self.mfa_needed(&ep.tenant, &user).await.map_err(|e| OAuthError::server_error(&e.message))? {
            return Err(OAuthError::mfa_required());
        }
        let family = uuid_from(&self.random_bytes());
        self.issue_user_tokens(ep, &app, &user, scopes, &aud, None, family, v1_endpoint, Amr::Password).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn authorization_code_grant(
        &self,
        ep: &Endpoint,
        client: &ClientAuth,
        code: &Secret,
        redirect_uri: &str,
        code_verifier: Option<&Secret>,
        scope: Option<&str>,
        v1_endpoint: bool,
    ) -> Result<TokenResponse, OAuthError> {
        let app = self.authenticate_client(self.reader().await?.as_mut(), ep, client, false).await?;
        let now = self.clock.now();
        let hash = code.sha256();
        let mut tx = self.write().await.map_err(|e| OAuthError::server_error(&e.message))?;
        let redeemed = tx.redeem_auth_code(&hash, now).await?;
        let Some((stored, first)) = redeemed else {
            return Err(OAuthError::invalid_grant("the authorization code is not valid"));
        };
        // Tokens issued from a code form one refresh family, named after the code.
        let family = uuid_from(&hash);
        if !first {
            // A replayed code: whoever holds it may be an attacker, so revoke what it produced.
            tx.revoke_refresh_family(family, now).await?;
            tx.insert_audit(&self.audit(None, "oauth.code.replayed", "application", app.id, Some(ep.tenant.id), details(&[])))
                .await?;
            tx.commit().await?;
            return Err(OAuthError::code_redeemed());
        }
        tx.commit().await?;
        if stored.tenant_id != ep.tenant.id || stored.client_id != app.client_id {
            return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
        }
        if stored.expires_at <= now {
            return Err(OAuthError::expired_grant());
        }
        if stored.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant("redirect_uri differs from the one used at /authorize"));
        }
        if let Some(challenge) = &stored.code_challenge {
            let verifier = code_verifier.ok_or_else(|| OAuthError::missing_parameter("code_verifier"))?;
            let computed = match stored.code_challenge_method.as_deref() {
                Some("S256") => b64(&verifier.sha256()),
                _ => verifier.expose().to_owned(),
            };
            if !constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::pkce_mismatch());
            }
        }
        let scopes = parse_delegated(scope.unwrap_or(&stored.scope)).map_err(|s| OAuthError::invalid_scope(&s))?;
        let (user, aud) = {
            let mut h = self.reader().await?;
            let user = self.token_user(h.as_mut(), ep, stored.user_id).await?;
            (user, self.audience(h.as_mut(), ep, &scopes.resource).await?)
        };
        self.issue_user_tokens(ep, &app, &user, &scopes, &aud, stored.nonce.as_deref(), family, v1_endpoint, Amr::from_stored(&stored.amr)).await
    }

    async fn refresh_token_grant(&self, ep: &Endpoint, client: &ClientAuth, token: &Secret, scope: Option<&str>, v1_endpoint: bool) -> Result<TokenResponse, OAuthError> {
        let app = self.authenticate_client(self.reader().await?.as_mut(), ep, client, false).await?;
        let now = self.clock.now();
        let hash = token.sha256();
        let mut tx = self.write().await.map_err(|e| OAuthError::server_error(&e.message))?;
        let stored = tx
            .get_refresh_token(&hash)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the refresh token is not valid"))?;
        if stored.tenant_id != ep.tenant.id || stored.client_id != app.client_id {
            return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        if stored.revoked_at.is_some() {
            // Reuse of a rotated token: revoke the whole family.
            tx.revoke_refresh_family(stored.family_id, now).await?;
            tx.commit().await?;
            return Err(OAuthError::expired_grant());
        }
        if stored.expires_at <= now {
            return Err(OAuthError::expired_grant());
        }
        // Rotation: the presented token is spent whatever happens next. If a concurrent
        // request spent it first, this is a reuse like any other.
        if !tx.revoke_refresh_token(&hash, now).await? {
            tx.revoke_refresh_family(stored.family_id, now).await?;
            tx.commit().await?;
            return Err(OAuthError::expired_grant());
        }
        tx.commit().await?;
        let scopes = parse_delegated(scope.unwrap_or(&stored.scope)).map_err(|s| OAuthError::invalid_scope(&s))?;
        let (user, aud) = {
            let mut h = self.reader().await?;
            let user = self.token_user(h.as_mut(), ep, stored.user_id).await?;
            (user, self.audience(h.as_mut(), ep, &scopes.resource).await?)
        };
        self.issue_user_tokens(ep, &app, &user, &scopes, &aud, None, stored.family_id, v1_endpoint, Amr::from_stored(&stored.amr)).await
    }

    /// Username and password of the tenant, mapped to AADSTS errors.
    async fn user_sign_in(&self, ep: &Endpoint, username: &str, password: &Secret) -> Result<User, OAuthError> {
        let user = match self.verify_credentials(&ep.tenant, username, password, ep.source.as_deref()).await {
            Ok(u) => u,
            Err(e) => {
                return Err(match e.code {
                    ErrorCode::InvalidCredentials => OAuthError::bad_credentials(),
                    ErrorCode::AccountLocked => OAuthError::user_locked(),
                    ErrorCode::AccountDisabled => OAuthError::user_disabled(),
                    _ => OAuthError::from_service(&e),
                });
            }
        };
        if user.must_change_password {
            return Err(OAuthError::password_change_required());
        }
        Ok(user)
    }

    /// The user a code or refresh token was issued for, still enabled.
    async fn token_user(&self, tx: &mut dyn Tx, ep: &Endpoint, id: crate::ids::UserId) -> Result<User, OAuthError> {
        let user = tx
            .get_user(ep.tenant.id, id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the user no longer exists"))?;
        if !user.enabled {
            return Err(OAuthError::user_disabled());
        }
        Ok(user)
    }

    #[allow(clippy::too_many_arguments)]
    async fn issue_user_tokens(
        &self,
        ep: &Endpoint,
        app: &Application,
        user: &User,
        scopes: &DelegatedScopes,
        aud: &Audience,
        nonce: Option<&str>,
        family: uuid::Uuid,
        v1_endpoint: bool,
        amr: Amr,
    ) -> Result<TokenResponse, OAuthError> {
        let v1 = aud.v1;
        // `acr`: "1" for a password alone, "2" after a second factor (simple levels; Entra
        // puts "1" in v1 tokens). `amr` lists the methods (RFC 8176).
        let acr_level = if amr.multi_factor() { "2" } else { "1" };
        let now_ms = self.clock.now();
        let now = now_ms.as_millis() / 1000;
        let exp = now + self.policy.access_token_seconds;
        let oid = user.id.to_string();
        let cid = app.client_id.to_string();
        let mut claims = self.base_claims(ep, &aud.aud, v1, now, exp);
        if let Value::Object(m) = &mut claims {
            m.insert("oid".into(), json!(oid));
            m.insert("sub".into(), json!(pairwise_sub(&oid, &cid)));
            m.insert("scp".into(), json!(scopes.scp));
            m.insert("name".into(), json!(user.display_name.as_str()));
            m.insert("idtyp".into(), json!("user"));
            m.insert("amr".into(), json!(amr.values()));
            m.insert("acr".into(), json!(acr_level));
            if let Some(g) = &user.given_name {
                m.insert("given_name".into(), json!(g.as_str()));
            }
            if let Some(s) = &user.surname {
                m.insert("family_name".into(), json!(s.as_str()));
            }
            let acr = if app.public_client { "0" } else { "1" };
            if v1 {
                m.insert("appid".into(), json!(cid));
                m.insert("appidacr".into(), json!(acr));
                m.insert("upn".into(), json!(user.upn.as_str()));
                m.insert("unique_name".into(), json!(user.upn.as_str()));
            } else {
                m.insert("azp".into(), json!(cid));
                m.insert("azpacr".into(), json!(acr));
                m.insert("preferred_username".into(), json!(user.upn.as_str()));
            }
        }
        let access_token = self.sign(&claims)?;
        let id_token = if scopes.openid {
            let mut id = json!({
                "aud": cid,
                "iss": ep.issuer_v2(),
                "iat": now, "nbf": now, "exp": exp,
                "sub": pairwise_sub(&oid, &cid),
                "oid": oid,
                "tid": ep.tenant.id.to_string(),
                "ver": "2.0",
                "name": user.display_name.as_str(),
                "preferred_username": user.upn.as_str(),
                "uti": b64(&self.random_bytes()[..16]),
                "rh": "0.",
                "amr": amr.values(),
                "acr": acr_level,
            });
            if let (Value::Object(m), Some(n)) = (&mut id, nonce) {
                m.insert("nonce".into(), json!(n));
            }
            if let (Value::Object(m), Some(mail)) = (&mut id, &user.mail) {
                m.insert("email".into(), json!(mail.as_str()));
            }
            Some(self.sign(&id)?)
        } else {
            None
        };
        let refresh_token = if scopes.offline_access {
            let raw = format!("{REFRESH_PREFIX}{}", b64(&self.random_bytes()));
            let scope_str = scope_string(scopes, aud);
            let row = RefreshToken {
                token_hash: sha256(raw.as_bytes()),
                family_id: family,
                tenant_id: ep.tenant.id,
                client_id: app.client_id,
                user_id: user.id,
                scope: format!("{scope_str} offline_access"),
                created_at: now_ms,
                expires_at: now_ms.plus_seconds(self.policy.refresh_token_seconds),
                revoked_at: None,
                amr: amr.as_stored(),
            };
            let mut tx = self.write().await.map_err(|e| OAuthError::server_error(&e.message))?;
            tx.insert_refresh_token(&row).await?;
            tx.commit().await?;
            Some(raw)
        } else {
            None
        };
        let client_info = b64(json!({"uid": oid, "utid": ep.tenant.id.to_string()}).to_string().as_bytes());
        Ok(TokenResponse {
            token_type: "Bearer",
            scope: Some(scope_string(scopes, aud)),
            expires_in: self.policy.access_token_seconds,
            ext_expires_in: self.policy.access_token_seconds,
            expires_on: v1_endpoint.then(|| exp.to_string()),
            not_before: v1_endpoint.then(|| now.to_string()),
            resource: v1_endpoint.then(|| aud.resource.clone()),
            access_token,
            refresh_token,
            id_token,
            client_info: Some(client_info),
            subject: TokenSubject {
                app_display_name: Some(app.display_name.to_string()),
                user: Some((user.id, user.upn.as_str().to_owned())),
                mfa: amr.multi_factor(),
            },
        })
    }

    fn base_claims(&self, ep: &Endpoint, aud: &str, v1: bool, now: i64, exp: i64) -> Value {
        json!({
            "aud": aud,
            "iss": if v1 { ep.issuer_v1() } else { ep.issuer_v2() },
            "iat": now,
            "nbf": now,
            "exp": exp,
            "tid": ep.tenant.id.to_string(),
            "ver": if v1 { "1.0" } else { "2.0" },
            "uti": b64(&self.random_bytes()[..16]),
            "rh": "0.",
        })
    }

    fn sign(&self, claims: &Value) -> Result<String, OAuthError> {
        self.signer.sign(claims).map_err(OAuthError::from)
    }

    fn random_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.rng.fill(&mut b);
        b
    }

    // ------------------------------------------------------------------ authorize

    /// Checks an authorize request before anything is shown. Client and redirect URI problems
    /// are shown on a page; the rest are sent back to the (verified) redirect URI.
    pub async fn authorize_check(&self, ep: &Endpoint, req: &AuthorizeRequest) -> Result<Application, AuthorizeError> {
        if req.client_id.is_empty() {
            return Err(AuthorizeError::Show(OAuthError::missing_parameter("client_id")));
        }
        if req.redirect_uri.is_empty() {
            return Err(AuthorizeError::Show(OAuthError::missing_parameter("redirect_uri")));
        }
        let mut tx = self.read().await.map_err(|e| AuthorizeError::Show(OAuthError::server_error(&e.message)))?;
        let app = self.find_client(tx.as_mut(), ep, &req.client_id).await.map_err(AuthorizeError::Show)?;
        // Compared as the exact registered string, never normalised.
        if !app.reply_urls.iter().any(|u| u.as_str() == req.redirect_uri) {
            return Err(AuthorizeError::Show(OAuthError::redirect_mismatch(&req.redirect_uri, &app.client_id.to_string())));
        }
        let back = |e: OAuthError| AuthorizeError::Redirect(error_redirect(&req.redirect_uri, &e, req.state.as_deref()));
        if req.response_type != "code" {
            return Err(back(OAuthError::unsupported_response_type(&req.response_type)));
        }
        if req.scope.trim().is_empty() {
            return Err(back(OAuthError::missing_parameter("scope")));
        }
        let scopes = parse_delegated(&req.scope).map_err(|s| back(OAuthError::invalid_scope(&s)))?;
        self.audience(tx.as_mut(), ep, &scopes.resource).await.map_err(back)?;
        if let Some(m) = &req.code_challenge_method
            && m != "S256"
            && m != "plain"
        {
            return Err(back(OAuthError::malformed("code_challenge_method must be S256 or plain")));
        }
        Ok(app)
    }

    /// Signs the user in on the authorize page and returns where to redirect (with the code).
    pub async fn authorize_sign_in(&self, ep: &Endpoint, req: &AuthorizeRequest, username: &str, password: &Secret) -> Result<String, AuthorizeError> {
        let app = self.authorize_check(ep, req).await?;
        let again = |message: &str| AuthorizeError::Credentials { message: message.to_owned(), app_name: app.display_name.to_string() };
        let signed_in = self.user_sign_in(ep, username, password).await;
        let user = match signed_in {
            Ok(u) => u,
            Err(e) => {
                self.log_sign_in(self.authorize_sign_in_entry(ep, &app, username, None, Some(&e), false)).await;
                return Err(match e.code {
                    50126 => again("Your account or password is incorrect."),
                    50053 => again("Your account is locked after too many failed attempts. Try again later."),
                    50057 => again("Your account is disabled. Contact your administrator."),
                    50055 => again("Your password must be changed before you can sign in here."),
                    _ => AuthorizeError::Show(e),
                });
            }
        };
        let server = |e: crate::error::Error| AuthorizeError::Show(OAuthError::server_error(&e.message));
        if self.has_totp(ep.tenant.id, user.id).await.map_err(server)? {
            let challenge = self.mfa_challenge(&ep.tenant, &user).map_err(server)?;
            // Logged as Entra logs it: the password was right, the second factor is to come.
            let waiting = OAuthError::strong_auth_required();
            self.log_sign_in(self.authorize_sign_in_entry(ep, &app, username, Some(&user), Some(&waiting), false)).await;
            return Err(AuthorizeError::SecondFactor { challenge, app_name: app.display_name.to_string(), message: None });
        }
        if self.mfa_needed(&ep.tenant, &user).await.map_err(server)? {
            self.log_sign_in(self.authorize_sign_in_entry(ep, &app, username, Some(&user), Some(&OAuthError::mfa_required()), false)).await;
            return Err(again("Your organization requires multi-factor sign-in for administrators: set up an authenticator app on the Security info page of the Atrium console first."));
        }
        self.log_sign_in(self.authorize_sign_in_entry(ep, &app, username, Some(&user), None, false)).await;
        self.issue_auth_code(ep, req, &app, &user, Amr::Password).await
    }

    /// The second step on the authorize page: the challenge of the password step and a code.
    pub async fn authorize_second_factor(&self, ep: &Endpoint, req: &AuthorizeRequest, challenge: &str, code: &Secret) -> Result<String, AuthorizeError> {
        let app = self.authorize_check(ep, req).await?;
        let again = |message: &str| AuthorizeError::Credentials { message: message.to_owned(), app_name: app.display_name.to_string() };
        let (tenant, user) = match self.open_mfa_challenge(challenge).await {
            Ok(v) if v.0.id == ep.tenant.id => v,
            _ => return Err(again("The sign-in took too long. Sign in again.")),
        };
        let verified = self.verify_second_factor(&tenant, &user, code).await;
        self.log_sign_in(self.authorize_second_factor_entry(ep, &app, &user, verified.as_ref().err())).await;
        match verified {
            Ok(amr) => self.issue_auth_code(ep, req, &app, &user, amr).await,
            Err(e) if e.code == ErrorCode::InvalidMfaCode => Err(AuthorizeError::SecondFactor {
                challenge: challenge.to_owned(),
                app_name: app.display_name.to_string(),
                message: Some("That code is incorrect, has expired or was already used. Try the current code.".into()),
            }),
            Err(e) if e.code == ErrorCode::AccountLocked => Err(again("Your account is locked after too many failed attempts. Try again later.")),
            Err(e) => Err(AuthorizeError::Show(OAuthError::server_error(&e.message))),
        }
    }

    /// A passkey sign-in on the authorize page (no password): the same code redirect as a
    /// password sign-in, with `amr` `fido mfa`. Only passkeys of this tenant's users count.
    pub async fn authorize_passkey(
        &self,
        ep: &Endpoint,
        req: &AuthorizeRequest,
        rp: &crate::ports::RelyingParty,
        ceremony: &str,
        assertion: &serde_json::Value,
    ) -> Result<String, AuthorizeError> {
        let app = self.authorize_check(ep, req).await?;
        let again = |message: &str| AuthorizeError::Credentials { message: message.to_owned(), app_name: app.display_name.to_string() };
        match self.verify_passkey(rp, ceremony, assertion, Some(&ep.tenant), Some(&app)).await {
            Ok((_, user)) => self.issue_auth_code(ep, req, &app, &user, Amr::Passkey).await,
            Err(e) if e.code == ErrorCode::AccountDisabled => Err(again("Your account is disabled. Contact your administrator.")),
            Err(e) if e.code == ErrorCode::PasskeyCeremonyNotFound => Err(again("The passkey sign-in took too long. Try again.")),
            Err(e) if e.code == ErrorCode::PasskeysUnavailable => Err(again(&e.message)),
            Err(e) if matches!(e.code, ErrorCode::InvalidPasskey | ErrorCode::PasskeyRejected) => {
                Err(again("That passkey could not be verified, or it is not registered for this organization."))
            }
            Err(e) => Err(AuthorizeError::Show(OAuthError::server_error(&e.message))),
        }
    }

    /// Issues the authorization code (carrying how the user signed in) and builds the redirect.
    async fn issue_auth_code(&self, ep: &Endpoint, req: &AuthorizeRequest, app: &Application, user: &User, amr: Amr) -> Result<String, AuthorizeError> {
        let raw = format!("{CODE_PREFIX}{}", b64(&self.random_bytes()));
        let now = self.clock.now();
        let code = AuthCode {
            code_hash: sha256(raw.as_bytes()),
            tenant_id: ep.tenant.id,
            client_id: app.client_id,
            user_id: user.id,
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge.as_ref().map(|_| req.code_challenge_method.clone().unwrap_or_else(|| "plain".into())),
            created_at: now,
            expires_at: now.plus_seconds(self.policy.auth_code_seconds),
            redeemed_at: None,
            amr: amr.as_stored(),
        };
        let mut tx = self.write().await.map_err(|e| AuthorizeError::Show(OAuthError::server_error(&e.message)))?;
        tx.insert_auth_code(&code).await.map_err(|e| AuthorizeError::Show(e.into()))?;
        tx.insert_audit(&self.audit(None, "oauth.authorize", "user", user.id, Some(ep.tenant.id), details(&[("appId", &app.client_id.to_string())])))
            .await
            .map_err(|e| AuthorizeError::Show(e.into()))?;
        tx.commit().await.map_err(|e| AuthorizeError::Show(e.into()))?;
        let client_info = b64(json!({"uid": user.id.to_string(), "utid": ep.tenant.id.to_string()}).to_string().as_bytes());
        let mut url = format!("{}{}code={}", req.redirect_uri, if req.redirect_uri.contains('?') { '&' } else { '?' }, percent::encode(&raw));
        if let Some(s) = &req.state {
            url.push_str(&format!("&state={}", percent::encode(s)));
        }
        url.push_str(&format!("&client_info={}&session_state={}", percent::encode(&client_info), uuid_from(&self.random_bytes())));
        Ok(url)
    }
}

/// How the sign-in log files an attempt of `grant`, and the user name it typed (ROPC).
fn sign_in_kind(grant: &TokenGrant) -> (crate::sign_ins::SignInKind, Option<String>) {
    use crate::sign_ins::SignInKind;
    match grant {
        TokenGrant::ClientCredentials { .. } => (SignInKind::ServicePrincipal, None),
        TokenGrant::Password { username, .. } => (SignInKind::InteractiveUser, Some(username.clone())),
        TokenGrant::AuthorizationCode { .. } | TokenGrant::RefreshToken { .. } => (SignInKind::NonInteractiveUser, None),
    }
}

fn error_redirect(redirect_uri: &str, e: &OAuthError, state: Option<&str>) -> String {
    let mut url = format!(
        "{}{}error={}&error_description={}",
        redirect_uri,
        if redirect_uri.contains('?') { '&' } else { '?' },
        percent::encode(e.error),
        percent::encode(&e.to_string())
    );
    if let Some(s) = state {
        url.push_str(&format!("&state={}", percent::encode(s)));
    }
    url
}

/// Entra's `sub` is pairwise: stable per user and app, different across apps.
fn pairwise_sub(oid: &str, client_id: &str) -> String {
    b64(&sha256(format!("{oid}:{client_id}").as_bytes()))
}

fn uuid_from(bytes: &[u8]) -> uuid::Uuid {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// The `scope` of a user-token response: the granted scopes plus the OpenID ones.
fn scope_string(scopes: &DelegatedScopes, aud: &Audience) -> String {
    let prefix = match &scopes.resource {
        Resource::Graph { .. } => String::new(),
        Resource::AccountApi { .. } => format!("{}/", aud.resource),
        Resource::Arm { .. } => aud.resource.clone(),
        Resource::App { .. } => format!("{}/", aud.resource),
    };
    let mut parts: Vec<String> = scopes.scp.split(' ').map(|s| format!("{prefix}{s}")).collect();
    if scopes.openid {
        parts.extend(["profile", "openid", "email"].map(String::from));
    }
    parts.join(" ")
}
