//! The services. Each public method is one use case: it checks who may do it, parses and
//! validates the input, and runs in exactly one store transaction (with its audit event).

mod accounts;
mod actions;
mod applications;
pub mod arm;
mod audit_view;
mod auth;
mod bootstrap;
mod graph_access;
mod groups;
pub mod identity;
mod invitations;
pub mod mail;
pub mod mfa;
pub mod passkeys;
pub mod provisioning;
pub mod sign_in_log;
mod subscriptions;
mod tenants;
pub mod throttle;
mod users;

pub use accounts::{ACTIVITY_DAYS, AccountCaller, ItemResult, MemberView, NewAccount, PrincipalInput};
pub use actions::{AccountActions, MemberActions, Verdict, is_account_owner, may_open_account};
pub use applications::{ApplicationPatch, CreatedKey, MAX_KEY_MONTHS, MAX_KEYS_PER_APP, NewApplication};
pub use auth::{SignIn, SignInStep, SignedIn};
pub use mfa::{Amr, MfaStatus, TotpEnrolment};
pub use bootstrap::OwnerCredentials;
pub use graph_access::{DirectoryObjectView, GraphGrant, MAX_BY_IDS};
pub use groups::{GroupPatch, NewGroup};
pub use invitations::{InvitationView, InviteGuests, MAX_INVITEES, RedemptionView, SentInvitation, guest_upn, split_addresses};
pub use mail::{DeliveryReport, MailContent, MailState, NO_MAIL_SERVER};
pub use subscriptions::{
    CreatedDirectoryRequest, DIRECTORY_REQUEST_SECONDS, DirectoryChange, DirectoryConsent, RequestedDirectory, SubscriptionRole, SubscriptionView, parse_directory,
};
pub use tenants::{NewTenant, NewTenantAdmin, TenantPatch};
pub use users::{CreatedUser, NewUser, UserPatch};

use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::domain::DomainSuffix;
use crate::error::{Error, ErrorCode};
use crate::ids::{AuditEventId, TenantId};
use crate::ports::{Clock, PasswordHasher, Pause, Rng, SecretSealer, Store, StoreError, TokenSigner, Tx};
use std::sync::Arc;

/// Deployment-wide settings the rules depend on.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Tenant domains are `<prefix>.<suffix>`.
    pub domain_suffix: DomainSuffix,
    /// Failed sign-ins in a row that lock an account.
    pub lockout_threshold: i32,
    /// How long a lock lasts.
    pub lockout_seconds: i64,
    /// How long a sign-in session lasts.
    pub session_seconds: i64,
    /// Access and id token lifetime (Entra's default is about an hour).
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub auth_code_seconds: i64,
    /// How long an invitation link works; `None`: until accepted or revoked (A7).
    pub invitation_seconds: Option<i64>,
    /// Delivery attempts before a mail is dead-lettered.
    pub mail_max_attempts: i32,
    /// The first retry waits this long; each further one twice as long (at most an hour).
    pub mail_retry_seconds: i64,
    /// Whether a mail server is configured. Without one, mail waits in the outbox and every
    /// reply says it was not sent.
    pub mail_server: bool,
    /// Throttling limits (per fixed window, counted in the database).
    pub throttle: throttle::ThrottleLimits,
}

impl Policy {
    pub fn new(domain_suffix: DomainSuffix) -> Self {
        Self {
            domain_suffix,
            lockout_threshold: 5,
            lockout_seconds: 15 * 60,
            session_seconds: 8 * 3600,
            access_token_seconds: 3599,
            refresh_token_seconds: 90 * 86_400,
            auth_code_seconds: 600,
            invitation_seconds: Some(30 * 86_400),
            mail_max_attempts: 8,
            mail_retry_seconds: 30,
            mail_server: false,
            throttle: throttle::ThrottleLimits::default(),
        }
    }
}

/// The service facade every adapter calls.
#[derive(Clone)]
pub struct Services {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    hasher: Arc<dyn PasswordHasher>,
    signer: Arc<dyn TokenSigner>,
    pause: Arc<dyn Pause>,
    /// Encrypts TOTP secrets at rest with the master key.
    sealer: Arc<dyn SecretSealer>,
    policy: Policy,
    /// Where finished sign-in attempts go (`sign_in_log`); `None` writes them at once.
    sign_in_sink: Option<Arc<dyn crate::sign_ins::SignInSink>>,
    passkeys: Option<Arc<dyn crate::ports::PasskeyVerifier>>,
}

impl Services {
    #[allow(clippy::too_many_arguments)] // The ports, each injected once at start.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        hasher: Arc<dyn PasswordHasher>,
        signer: Arc<dyn TokenSigner>,
        pause: Arc<dyn Pause>,
        sealer: Arc<dyn SecretSealer>,
        policy: Policy,
    ) -> Self {
        Self { store, clock, rng, hasher, signer, pause, sealer, policy, sign_in_sink: None, passkeys: None }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    async fn write(&self) -> Result<Box<dyn Tx>, Error> {
        Ok(self.store.begin().await?)
    }

    async fn read(&self) -> Result<Box<dyn Tx>, Error> {
        Ok(self.store.begin_read().await?)
    }

    /// An audit event by `actor` (or by the system when `None`).
    fn audit(
        &self,
        actor: Option<&Actor>,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        tenant_id: Option<TenantId>,
        details: String,
    ) -> AuditEvent {
        let (actor_user_id, actor_tenant_id) = AuditEvent::actor_fields(actor);
        AuditEvent {
            id: AuditEventId::random(self.rng.as_ref()),
            at: self.clock.now(),
            actor_user_id,
            actor_tenant_id,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_string(),
            tenant_id,
            account_id: None,
            details,
        }
    }
}

/// A storage failure the caller did not expect, as an error for clients: `?` converts it.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Error::new(ErrorCode::Unavailable).with_message(format!("storage unavailable: {m}")),
            other => Error::internal(other),
        }
    }
}

/// Who may do what on the directory. One place, used by every service.
pub(crate) mod authz {
    use super::*;

    /// Every call except changing one's own password needs a current password.
    pub fn active(actor: &Actor) -> Result<(), Error> {
        if actor.must_change_password {
            Err(ErrorCode::PasswordChangeRequired.into())
        } else {
            Ok(())
        }
    }

    /// Applications act on accounts only (R13): their tokens are for the account API, never the
    /// directory API.
    pub fn person(actor: &Actor) -> Result<(), Error> {
        if actor.application.is_some() {
            Err(Error::new(ErrorCode::Forbidden).with_message("Application tokens are for the account API only."))
        } else {
            Ok(())
        }
    }

    pub fn instance_admin(actor: &Actor) -> Result<(), Error> {
        active(actor)?;
        person(actor)?;
        if actor.is_instance_admin() { Ok(()) } else { Err(ErrorCode::Forbidden.into()) }
    }

    /// Reading a tenant's directory: its own users, or an instance admin. Others get 404, so
    /// that tenant ids from elsewhere reveal nothing.
    pub fn tenant_reader(actor: &Actor, tenant: TenantId) -> Result<(), Error> {
        active(actor)?;
        person(actor)?;
        if actor.is_instance_admin() || actor.tenant_id == tenant {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::TenantNotFound).with_target("tenantId"))
        }
    }

    /// One directory operation in `tenant`, for every kind of caller:
    /// - a session (console, REST): reading needs a user of the tenant, writing (and reading
    ///   sign-in logs) a global administrator (`tenant_reader`, `tenant_admin`);
    /// - an app-only Graph token: an application permission that allows `op`, in the token's
    ///   own tenant only (the permission table is `crate::graph`);
    /// - a delegated Graph token: a scope that allows `op` *and* the user's own role, as above.
    pub fn directory(actor: &Actor, tenant: TenantId, op: crate::graph::DirectoryOp) -> Result<(), Error> {
        use crate::actor::Access;
        let by_role = |actor: &Actor| if op.needs_admin() { tenant_admin(actor, tenant) } else { tenant_reader(actor, tenant) };
        match &actor.access {
            Access::Direct => by_role(actor),
            Access::GraphApp(roles) => {
                if actor.tenant_id != tenant {
                    return Err(Error::new(ErrorCode::TenantNotFound).with_target("tenantId"));
                }
                if crate::graph::app_allows(roles, op) { Ok(()) } else { Err(insufficient_privileges()) }
            }
            Access::GraphDelegated(scopes) => {
                if !crate::graph::delegated_allows(scopes, op) {
                    return Err(insufficient_privileges());
                }
                by_role(actor).map_err(|e| if e.code == ErrorCode::Forbidden { insufficient_privileges() } else { e })
            }
        }
    }

    /// Graph's words for a missing permission.
    pub fn insufficient_privileges() -> Error {
        Error::new(ErrorCode::Forbidden).with_message("Insufficient privileges to complete the operation.")
    }

    /// Changing a tenant's directory: a global admin signed in through that tenant (R4), or an
    /// instance admin.
    pub fn tenant_admin(actor: &Actor, tenant: TenantId) -> Result<(), Error> {
        tenant_reader(actor, tenant)?;
        if actor.is_instance_admin() || actor.global_admin {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::Forbidden)
                .with_message("Changing the directory needs a global administrator of this tenant."))
        }
    }
}

/// A small JSON object for audit details, built without a JSON dependency in the core.
pub(crate) fn details(pairs: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        push_escaped(&mut s, k);
        s.push_str("\":\"");
        push_escaped(&mut s, v);
        s.push('"');
    }
    s.push('}');
    s
}

fn push_escaped(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

/// Parses an optional text field: `None` stays `None`, blank becomes `None`.
pub(crate) fn opt<T>(v: Option<&str>, parse: impl FnOnce(&str) -> Result<T, Error>) -> Result<Option<T>, Error> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse(s).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_json() {
        assert_eq!(details(&[("a", "x\"y"), ("b", "\n")]), r#"{"a":"x\"y","b":"\u000a"}"#);
    }
}
