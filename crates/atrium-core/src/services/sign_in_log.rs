//! Sign-in logs: every attempt of every sign-in path ends in one `self.log_sign_in(...)` call
//! (built by the helpers below), read back by administrators, purged after 30 days.
//!
//! Logging never changes the outcome of a sign-in: entries go to the server's queue (see
//! `atrium-server/src/sign_ins.rs`), which writes them in batches off the request path. Names
//! the attempt did not resolve (the user behind a wrong password, an application's display
//! name behind a wrong secret) are looked up when the batch is written, not while the client
//! waits.

use super::identity::{Endpoint, OAuthError};
use super::{Services, authz};
use crate::actor::{Access, Actor};
use crate::graph::DirectoryOp;
use crate::domain::Upn;
use crate::error::{Error, ErrorCode};
use crate::ids::{ClientId, TenantId};
use crate::model::{Application, Tenant, User};
use crate::page::{ListQuery, Page};
use crate::sign_ins::{SIGN_IN_LOG_DAYS, SignInEntry, SignInFilter, SignInKind, SignInSink, parse_cursor_key};
use std::sync::Arc;

/// `clientAppUsed` of the sign-in forms; the server tells a browser from an API client.
pub const CLIENT_APP_FROM_REQUEST: &str = "?";
/// `clientAppUsed` of OAuth clients on the token endpoint.
pub const CLIENT_APP_MODERN: &str = "Mobile Apps and Desktop clients";
pub const CLIENT_APP_BROWSER: &str = "Browser";
/// The application name of Atrium's own sign-in (console and `POST /api/v1/sign-in`).
pub const FIRST_PARTY_APP: &str = "Atrium";

/// Entra's failure text for the sign-in errors of the directory API.
fn user_failure(e: &Error) -> (i32, &'static str) {
    match e.code {
        ErrorCode::InvalidCredentials => (50126, "Error validating credentials due to invalid username or password."),
        ErrorCode::AccountLocked => (50053, "Account is locked because the user tried to sign in too many times with an incorrect user ID or password."),
        ErrorCode::AccountDisabled => (50057, "The user account is disabled."),
        ErrorCode::PasswordChangeRequired => (50055, "The password is expired."),
        ErrorCode::InvalidPasskey => (500121, "Authentication failed during strong authentication request."),
        // The password was right; the second factor is still to come (Entra: "interrupted").
        ErrorCode::MfaRequired => (50074, "Strong Authentication is required."),
        ErrorCode::InvalidMfaCode => (500121, "Authentication failed during strong authentication request."),
        ErrorCode::Throttled => (90055, "The number of incoming requests exceeded the limit. Try again later."),
        _ => (50000, "There was an error with the sign-in service."),
    }
}

impl Services {
    /// Sends the server's queue (when the server runs) the finished attempts.
    pub fn with_sign_in_sink(mut self, sink: Arc<dyn SignInSink>) -> Self {
        self.sign_in_sink = Some(sink);
        self
    }

    /// Records one attempt. Without a queue (the services outside a server) it is written at
    /// once; a failure to write is ignored, as it must not turn a sign-in into an error.
    pub(crate) async fn log_sign_in(&self, entry: SignInEntry) {
        match &self.sign_in_sink {
            Some(sink) => sink.record(entry),
            None => {
                let _ = self.record_sign_ins(std::slice::from_ref(&entry)).await;
            }
        }
    }

    /// A new entry of `tenant` at the current time, a success until told otherwise.
    fn sign_in_entry(&self, tenant: TenantId, kind: SignInKind, client_app_used: &str) -> SignInEntry {
        SignInEntry {
            id: crate::ids::random_uuid(self.rng.as_ref()),
            created_at: self.clock.now(),
            tenant_id: tenant,
            kind,
            user_id: None,
            user_principal_name: None,
            app_id: None,
            app_display_name: None,
            client_app_used: client_app_used.to_owned(),
            error_code: 0,
            failure_reason: None,
            mfa: false,
            ip_address: None,
            user_agent: None,
            correlation_id: None,
        }
    }

    /// A sign-in on Atrium's own forms (console, REST): `user` once the password was right,
    /// `error` when the attempt failed (or waits for its second factor), `mfa` when a second
    /// factor was satisfied.
    pub(crate) fn user_sign_in_entry(&self, tenant: &Tenant, username: &str, user: Option<&User>, error: Option<&Error>, mfa: bool) -> SignInEntry {
        let mut e = self.sign_in_entry(tenant.id, SignInKind::InteractiveUser, CLIENT_APP_FROM_REQUEST);
        e.app_display_name = Some(FIRST_PARTY_APP.to_owned());
        set_user(&mut e, username, user);
        if let Some(err) = error {
            let (code, reason) = user_failure(err);
            e.error_code = code;
            e.failure_reason = Some(reason.to_owned());
        }
        e.mfa = mfa;
        e
    }

    /// A sign-in with a passkey: on Atrium's own forms, or on the authorize page of `app`.
    /// `user` is who the passkey belongs to, when it is known.
    pub(crate) fn passkey_sign_in_entry(&self, tenant: TenantId, user: Option<&User>, app: Option<&Application>, error: Option<&Error>) -> SignInEntry {
        let client = if app.is_some() { CLIENT_APP_BROWSER } else { CLIENT_APP_FROM_REQUEST };
        let mut e = self.sign_in_entry(tenant, SignInKind::InteractiveUser, client);
        match app {
            Some(a) => {
                e.app_id = Some(a.client_id.to_string());
                e.app_display_name = Some(a.display_name.to_string());
            }
            None => e.app_display_name = Some(FIRST_PARTY_APP.to_owned()),
        }
        if let Some(u) = user {
            set_user(&mut e, "", Some(u));
        }
        match error {
            Some(err) => {
                let (code, reason) = user_failure(err);
                e.error_code = code;
                e.failure_reason = Some(reason.to_owned());
            }
            // A passkey verifies the user (PIN or biometric): multi-factor by itself.
            None => e.mfa = true,
        }
        e
    }

    /// A sign-in on the authorize page of `app`, in the same terms.
    pub(crate) fn authorize_sign_in_entry(&self, ep: &Endpoint, app: &Application, username: &str, user: Option<&User>, error: Option<&OAuthError>, mfa: bool) -> SignInEntry {
        let mut e = self.sign_in_entry(ep.tenant.id, SignInKind::InteractiveUser, CLIENT_APP_BROWSER);
        e.app_id = Some(app.client_id.to_string());
        e.app_display_name = Some(app.display_name.to_string());
        set_user(&mut e, username, user);
        if let Some(err) = error {
            set_oauth_failure(&mut e, err);
        }
        e.mfa = mfa;
        e
    }

    /// The second step on the authorize page, from the service's answer.
    pub(crate) fn authorize_second_factor_entry(&self, ep: &Endpoint, app: &Application, user: &User, error: Option<&Error>) -> SignInEntry {
        let mut e = self.sign_in_entry(ep.tenant.id, SignInKind::InteractiveUser, CLIENT_APP_BROWSER);
        e.app_id = Some(app.client_id.to_string());
        e.app_display_name = Some(app.display_name.to_string());
        set_user(&mut e, user.upn.as_str(), Some(user));
        match error {
            Some(err) => {
                let (code, reason) = user_failure(err);
                e.error_code = code;
                e.failure_reason = Some(reason.to_owned());
            }
            None => e.mfa = true,
        }
        e
    }

    /// An attempt on the token endpoint: `kind` and the user name typed (ROPC) come from the
    /// request, who signed in from the reply.
    pub(crate) fn token_sign_in_entry(
        &self,
        ep: &Endpoint,
        kind: SignInKind,
        client_id: &str,
        username: Option<&str>,
        result: &Result<super::identity::TokenResponse, OAuthError>,
    ) -> SignInEntry {
        let client_app = if kind == SignInKind::ServicePrincipal { "" } else { CLIENT_APP_MODERN };
        let mut e = self.sign_in_entry(ep.tenant.id, kind, client_app);
        e.app_id = Some(truncate(client_id, 64));
        e.user_principal_name = username.map(|u| truncate(u, 256));
        match result {
            Ok(r) => {
                e.app_display_name = r.subject.app_display_name.clone();
                e.mfa = r.subject.mfa;
                if let Some((id, upn)) = &r.subject.user {
                    e.user_id = Some(*id);
                    e.user_principal_name = Some(upn.clone());
                }
            }
            Err(err) => set_oauth_failure(&mut e, err),
        }
        e
    }

    /// Writes a batch of entries in one transaction, first resolving what the attempts left
    /// open: the user a typed name belongs to, and an application's display name.
    pub async fn record_sign_ins(&self, batch: &[SignInEntry]) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        let mut tenants: Vec<Tenant> = Vec::new();
        let mut rows = Vec::with_capacity(batch.len());
        for e in batch {
            let mut e = e.clone();
            let needs_user = e.kind != SignInKind::ServicePrincipal && e.user_id.is_none() && e.user_principal_name.is_some();
            let needs_app = e.app_display_name.is_none() && e.app_id.is_some();
            if needs_user && let Some(typed) = e.user_principal_name.clone() {
                if !tenants.iter().any(|t| t.id == e.tenant_id)
                    && let Some(t) = tx.get_tenant(e.tenant_id).await?
                {
                    tenants.push(t);
                }
                if let Some(t) = tenants.iter().find(|t| t.id == e.tenant_id) {
                    let upn = Upn::parse_in_domain(&typed, t.domain.as_str()).ok().or_else(|| Self::guest_upn_for(&typed, t));
                    if let Some(upn) = upn {
                        e.user_id = tx.find_user_by_upn(t.id, &upn.normalized()).await?.map(|u| u.id);
                    }
                }
            }
            if needs_app
                && let Some(cid) = e.app_id.as_deref().and_then(|c| ClientId::parse(c, "appId").ok())
            {
                e.app_display_name = tx.find_application_by_client_id(e.tenant_id, cid).await?.map(|a| a.display_name.to_string());
            }
            rows.push(e);
        }
        tx.insert_sign_ins(&rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sign-in logs, newest first. A tenant's global administrators see their tenant's;
    /// instance administrators see any tenant's, or all without `filter.tenant_id`.
    /// A Graph token reads its own tenant's, with a permission that allows
    /// [`DirectoryOp::ReadSignIns`] (delegated: and a global administrator's role).
    pub async fn list_sign_ins(&self, actor: &Actor, mut filter: SignInFilter, q: &ListQuery) -> Result<Page<SignInEntry>, Error> {
        match filter.tenant_id {
            _ if actor.access != Access::Direct => {
                let tenant = filter.tenant_id.unwrap_or(actor.tenant_id);
                authz::directory(actor, tenant, DirectoryOp::ReadSignIns)?;
                filter.tenant_id = Some(tenant);
            }
            Some(t) => authz::tenant_admin(actor, t)?,
            None if actor.is_instance_admin() => {}
            None => {
                authz::tenant_admin(actor, actor.tenant_id)?;
                filter.tenant_id = Some(actor.tenant_id);
            }
        }
        filter.after = match &q.after {
            Some(k) => Some(parse_cursor_key(k).ok_or_else(|| Error::new(ErrorCode::InvalidCursor).with_target("cursor"))?),
            None => None,
        };
        filter.limit = q.limit;
        let mut tx = self.read().await?;
        let rows = tx.list_sign_ins(&filter).await?;
        Ok(Page::from_rows(rows, q.limit, SignInEntry::cursor_key))
    }

    /// One sign-in of the caller's tenant by id, with the listing's rules; another tenant's
    /// or an unknown id is `NotFound`.
    pub async fn get_sign_in(&self, actor: &Actor, id: uuid::Uuid) -> Result<SignInEntry, Error> {
        let filter = SignInFilter { tenant_id: Some(actor.tenant_id), id: Some(id), ..SignInFilter::default() };
        let page = self.list_sign_ins(actor, filter, &ListQuery::parse(None, None, Some(1))?).await?;
        page.items.into_iter().next().ok_or_else(|| Error::new(ErrorCode::NotFound).with_target("id"))
    }

    /// Whether `actor` may read the sign-in logs of `tenant` (for links; the listing decides).
    pub fn may_read_sign_ins(&self, actor: &Actor, tenant: TenantId) -> bool {
        if actor.access != Access::Direct {
            return authz::directory(actor, tenant, DirectoryOp::ReadSignIns).is_ok();
        }
        authz::tenant_admin(actor, tenant).is_ok()
    }

    /// Deletes sign-in logs older than 30 days; run periodically by the server.
    pub async fn purge_sign_ins(&self) -> Result<u64, Error> {
        let before = self.clock.now().plus_seconds(-SIGN_IN_LOG_DAYS * 86_400);
        let mut tx = self.write().await?;
        let n = tx.purge_sign_ins(before).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The user who signed in, or the name typed when the attempt failed.
fn set_user(e: &mut SignInEntry, typed: &str, user: Option<&User>) {
    match user {
        Some(u) => {
            e.user_id = Some(u.id);
            e.user_principal_name = Some(u.upn.as_str().to_owned());
        }
        None => e.user_principal_name = Some(truncate(typed, 256)).filter(|s| !s.is_empty()),
    }
}

fn set_oauth_failure(e: &mut SignInEntry, err: &OAuthError) {
    e.error_code = i32::try_from(err.code).unwrap_or(i32::MAX);
    // The description without its `AADSTS<code>: ` prefix, as Entra's failureReason reads.
    let d = err.description.split_once(": ").filter(|(p, _)| p.starts_with("AADSTS")).map_or(err.description.as_str(), |(_, rest)| rest);
    e.failure_reason = Some(truncate(d, 512));
}

/// At most `max` bytes of `s`, cut at a character boundary: typed names are input.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
