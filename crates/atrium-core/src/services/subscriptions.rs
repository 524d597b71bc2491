//! Subscriptions (seed 003): associate a subscription with an account's directory so that it
//! shows up in the account's Web storefront deployment view.
//!
//! 1. "Use existing directory": the subscription owner asks to use a directory and gets a
//!    single-use consent code.
//! 2. A global administrator of that directory, signed in through it, consents ("Continue").
//! 3. "Change the associated directory": the owner previews, then confirms the mapping. The old
//!    directory's co-administrators lose access.
//! 4. The owner adds co-administrators by email; they must be users of the mapped directory.
//! 5. The account's deployment view lists the caller's active subscriptions whose directory is
//!    associated with the account.

use super::{Services, authz, details};
use crate::actor::Actor;
use crate::audit::{AuditEvent, AuditFilter};
use crate::domain::{DisplayName, Email, TenantDomain};
use crate::error::{Error, ErrorCode};
use crate::ids::{AccountId, ClientId, DirectoryRequestId, PERSONAL_ACCOUNTS_TENANT, SubscriptionId, TenantId, UserId};
use crate::model::{AppCoadmin, Application, Coadmin, DirectoryRequest, Subscription, SubscriptionState, Tenant, User};
use crate::ports::{StoreError, Tx};
use crate::secret::Secret;
use crate::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long a "use existing directory" request waits for the directory's consent, and how long
/// a consent stays usable for the mapping. Seed 003 does the steps in one sitting.
pub const DIRECTORY_REQUEST_SECONDS: i64 = 3600;

/// How the caller relates to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionRole {
    Owner,
    Coadministrator,
}

impl SubscriptionRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionRole::Owner => "owner",
            SubscriptionRole::Coadministrator => "coadministrator",
        }
    }
}

/// A subscription with its directory and the caller's role.
#[derive(Debug, Clone)]
pub struct SubscriptionView {
    pub subscription: Subscription,
    pub directory: Tenant,
    pub role: SubscriptionRole,
}

/// Step 1's result: the code is shown once, to the owner, who hands it to the directory's admin.
#[derive(Debug, Clone)]
pub struct CreatedDirectoryRequest {
    pub request: DirectoryRequest,
    pub code: Secret,
    pub directory: Tenant,
}

/// Step 2: what the directory is asked to agree to, or agreed to.
#[derive(Debug, Clone)]
pub struct DirectoryConsent {
    pub request: DirectoryRequest,
    pub subscription: Subscription,
    pub directory: Tenant,
    /// The subscription owner's display name, so the admin knows who asks.
    pub owner_name: String,
}

/// A directory the owner asked to use since the last change (step 1), and whether step 3 would
/// map it now.
#[derive(Debug, Clone)]
pub struct RequestedDirectory {
    pub directory: Tenant,
    /// When a still-usable consent was given (step 2), if one was.
    pub consented_at: Option<Timestamp>,
    /// Why step 3 would refuse it now (not consented, or the subscription is disabled), if so.
    pub refusal: Option<Error>,
}

/// Step 3's confirm page: what changes if the mapping is confirmed.
#[derive(Debug, Clone)]
pub struct DirectoryChange {
    pub subscription: Subscription,
    pub from: Tenant,
    pub to: Tenant,
    /// The co-administrators (all of the old directory) who lose access.
    pub losing_access: Vec<User>,
    pub consented_by: Option<UserId>,
    pub consented_at: Option<Timestamp>,
}

fn not_found() -> Error {
    Error::new(ErrorCode::SubscriptionNotFound).with_target("subscriptionId")
}

fn owner_only() -> Error {
    Error::new(ErrorCode::OwnerOnly).with_message("Only the subscription's owner can do this.")
}

fn require_active(s: &Subscription) -> Result<(), Error> {
    if s.state == SubscriptionState::Active { Ok(()) } else { Err(ErrorCode::SubscriptionDisabled.into()) }
}

/// Parses `tenantId` of the directory-change calls.
pub fn parse_directory(s: &str) -> Result<TenantId, Error> {
    TenantId::parse(s, "tenantId")
}

/// A tenant by GUID or domain, inside the caller's transaction.
async fn resolve_tenant_in(tx: &mut dyn Tx, reference: &str) -> Result<Tenant, Error> {
    let not_found = || Error::new(ErrorCode::TenantNotFound).with_message(format!("Tenant '{}' not found.", reference.trim())).with_target("tenant");
    let found = if let Ok(id) = TenantId::parse(reference, "tenant") {
        tx.get_tenant(id).await
    } else if let Ok(domain) = TenantDomain::parse(reference.trim()) {
        tx.find_tenant_by_domain(domain.as_str()).await
    } else {
        // Neither form: a bad request, not a missing tenant.
        return Err(Error::new(ErrorCode::InvalidRequest)
            .with_message("'tenant' must be a tenant id (GUID) or a tenant domain such as contoso.onatrium.local.")
            .with_target("tenant"));
    };
    found?.ok_or_else(not_found)
}

impl Services {
    /// The subscription and the caller's role in it. Neither owner nor co-administrator: 404, so
    /// subscription ids reveal nothing.
    async fn subscription_role(&self, tx: &mut dyn Tx, actor: &Actor, id: SubscriptionId) -> Result<(Subscription, SubscriptionRole), Error> {
        authz::active(actor)?;
        authz::person(actor).map_err(|_| not_found())?;
        let s = tx.get_subscription(id).await?.ok_or_else(not_found)?;
        if s.owner_user_id == actor.user_id && s.owner_tenant_id == actor.tenant_id {
            return Ok((s, SubscriptionRole::Owner));
        }
        // Co-administrators are users of the current directory (the schema keeps it so).
        if actor.tenant_id == s.directory_tenant_id && tx.list_coadmins(id).await?.iter().any(|(c, _)| c.user_id == actor.user_id) {
            return Ok((s, SubscriptionRole::Coadministrator));
        }
        Err(not_found())
    }

    async fn owned_subscription(&self, tx: &mut dyn Tx, actor: &Actor, id: SubscriptionId) -> Result<Subscription, Error> {
        match self.subscription_role(tx, actor, id).await? {
            (s, SubscriptionRole::Owner) => Ok(s),
            _ => Err(owner_only()),
        }
    }

    fn subscription_audit(&self, actor: &Actor, action: &str, s: &Subscription, tenant: TenantId, pairs: &[(&str, &str)]) -> AuditEvent {
        self.audit(Some(actor), action, "subscription", s.id, Some(tenant), details(pairs))
    }

    /// Creates a subscription owned by the caller, a personal account. It trusts the owner's
    /// own directory (the personal-accounts tenant) until step 3 maps another one.
    pub async fn create_subscription(&self, actor: &Actor, name: &str) -> Result<SubscriptionView, Error> {
        authz::active(actor)?;
        authz::person(actor)?;
        if actor.tenant_id != PERSONAL_ACCOUNTS_TENANT {
            return Err(Error::new(ErrorCode::Forbidden).with_message("Subscriptions are owned by personal accounts: sign in with one (the personal-accounts tenant)."));
        }
        let now = self.clock.now();
        let s = Subscription {
            id: SubscriptionId::random(self.rng.as_ref()),
            name: DisplayName::parse(name, "name")?,
            owner_tenant_id: actor.tenant_id,
            owner_user_id: actor.user_id,
            state: SubscriptionState::Active,
            directory_tenant_id: actor.tenant_id,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.write().await?;
        let directory = self.require_tenant(tx.as_mut(), s.directory_tenant_id).await?;
        tx.insert_subscription(&s).await?;
        tx.insert_audit(&self.subscription_audit(actor, "subscription.create", &s, s.directory_tenant_id, &[("name", s.name.as_str())]))
            .await?;
        tx.commit().await?;
        Ok(SubscriptionView { subscription: s, directory, role: SubscriptionRole::Owner })
    }

    async fn views(&self, tx: &mut dyn Tx, actor: &Actor, list: Vec<Subscription>) -> Result<Vec<SubscriptionView>, Error> {
        let mut out = Vec::with_capacity(list.len());
        for s in list {
            let role = if s.owner_user_id == actor.user_id && s.owner_tenant_id == actor.tenant_id { SubscriptionRole::Owner } else { SubscriptionRole::Coadministrator };
            let directory = self.require_tenant(tx, s.directory_tenant_id).await?;
            out.push(SubscriptionView { subscription: s, directory, role });
        }
        Ok(out)
    }

    /// The subscriptions the caller owns or co-administers, in any state.
    pub async fn list_subscriptions(&self, actor: &Actor) -> Result<Vec<SubscriptionView>, Error> {
        authz::active(actor)?;
        if actor.application.is_some() {
            return Ok(Vec::new());
        }
        let mut tx = self.read().await?;
        let list = tx.list_subscriptions_for_user(actor.tenant_id, actor.user_id).await?;
        self.views(tx.as_mut(), actor, list).await
    }

    pub async fn get_subscription(&self, actor: &Actor, id: SubscriptionId) -> Result<SubscriptionView, Error> {
        let mut tx = self.read().await?;
        let (subscription, role) = self.subscription_role(tx.as_mut(), actor, id).await?;
        let directory = self.require_tenant(tx.as_mut(), subscription.directory_tenant_id).await?;
        Ok(SubscriptionView { subscription, directory, role })
    }

    /// Step 1, "Use existing directory": the owner asks to use `tenant` (GUID or domain). The
    /// returned code is shown once; a global administrator of that directory consents with it.
    pub async fn request_directory(&self, actor: &Actor, id: SubscriptionId, tenant: &str) -> Result<CreatedDirectoryRequest, Error> {
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        require_active(&s)?;
        let directory = resolve_tenant_in(tx.as_mut(), tenant).await?;
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw);
        let code = Secret::new(format!("atrd_{}", URL_SAFE_NO_PAD.encode(raw)));
        let now = self.clock.now();
        if s.directory_tenant_id == directory.id {
            return Err(Error::new(ErrorCode::SameDirectory).with_target("tenant"));
        }
        let request = DirectoryRequest {
            id: DirectoryRequestId::random(self.rng.as_ref()),
            subscription_id: s.id,
            tenant_id: directory.id,
            code_hash: code.sha256(),
            requested_by: actor.user_id,
            created_at: now,
            expires_at: now.plus_seconds(DIRECTORY_REQUEST_SECONDS),
            consented_by: None,
            consented_at: None,
        };
        tx.insert_directory_request(&request).await?;
        let request_id = request.id.to_string();
        tx.insert_audit(&self.subscription_audit(actor, "subscription.directory.request", &s, directory.id, &[("requestId", &request_id), ("domain", directory.domain.as_str())]))
            .await?;
        tx.commit().await?;
        Ok(CreatedDirectoryRequest { request, code, directory })
    }

    /// The checks of step 2: an unused, unexpired request; a global administrator of its
    /// directory signed in through it (trusting a directory is a directory-wide decision, R4);
    /// an active subscription.
    async fn pending_request_in(&self, tx: &mut dyn Tx, actor: &Actor, code: &Secret) -> Result<DirectoryConsent, Error> {
        authz::active(actor)?;
        authz::person(actor)?;
        let gone = || Error::new(ErrorCode::DirectoryRequestNotFound).with_target("code");
        let request = tx
            .find_directory_request_by_code(&code.sha256())
            .await?
            .filter(|r| r.consented_at.is_none() && r.expires_at > self.clock.now())
            .ok_or_else(gone)?;
        let directory = self.require_tenant(tx, request.tenant_id).await?;
        if actor.tenant_id != request.tenant_id {
            return Err(Error::new(ErrorCode::WrongTenant)
                .with_message(format!("Sign in with the credentials of {}, the directory the subscription asks to use.", directory.domain)));
        }
        if !actor.global_admin {
            return Err(Error::new(ErrorCode::GlobalAdminRequired)
                .with_message(format!("Only a global administrator of {} can let a subscription use it.", directory.domain)));
        }
        let subscription = tx.get_subscription(request.subscription_id).await?.ok_or_else(gone)?;
        require_active(&subscription)?;
        let owner = tx.get_user(subscription.owner_tenant_id, subscription.owner_user_id).await?;
        let owner_name = owner.map(|u| u.display_name.to_string()).unwrap_or_default();
        Ok(DirectoryConsent { request, subscription, directory, owner_name })
    }

    /// Step 2's dialog: "use this directory with the subscription?" What the code asks for,
    /// shown to the directory's global administrator before Continue. Changes nothing.
    pub async fn review_directory_request(&self, actor: &Actor, code: &Secret) -> Result<DirectoryConsent, Error> {
        let mut tx = self.read().await?;
        self.pending_request_in(tx.as_mut(), actor, code).await
    }

    /// Step 2, "Continue": the directory lets the subscription use it (single use).
    pub async fn consent_directory(&self, actor: &Actor, code: &Secret) -> Result<DirectoryConsent, Error> {
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let pending = self.pending_request_in(tx.as_mut(), actor, code).await?;
        if !tx.consent_directory_request(pending.request.id, actor.user_id, now).await? {
            return Err(Error::new(ErrorCode::DirectoryRequestNotFound).with_target("code"));
        }
        let request_id = pending.request.id.to_string();
        tx.insert_audit(&self.subscription_audit(
            actor,
            "subscription.directory.consent",
            &pending.subscription,
            pending.directory.id,
            &[("requestId", &request_id), ("domain", pending.directory.domain.as_str())],
        ))
        .await?;
        tx.commit().await?;
        let request = DirectoryRequest { consented_by: Some(actor.user_id), consented_at: Some(now), ..pending.request };
        Ok(DirectoryConsent { request, ..pending })
    }

    /// The checks shared by the preview and the confirm of step 3.
    async fn directory_change_in(&self, tx: &mut dyn Tx, actor: &Actor, id: SubscriptionId, to: TenantId) -> Result<DirectoryChange, Error> {
        let s = self.owned_subscription(tx, actor, id).await?;
        require_active(&s)?;
        if s.directory_tenant_id == to {
            return Err(Error::new(ErrorCode::SameDirectory).with_target("tenantId"));
        }
        let to_tenant = self.require_tenant(tx, to).await?;
        let request = tx
            .find_consented_directory_request(s.id, to, self.clock.now())
            .await?
            .ok_or_else(|| Error::new(ErrorCode::DirectoryNotConsented).with_target("tenantId"))?;
        let from = self.require_tenant(tx, s.directory_tenant_id).await?;
        let losing_access = tx.list_coadmins(s.id).await?.into_iter().map(|(_, u)| u).collect();
        Ok(DirectoryChange { subscription: s, from, to: to_tenant, losing_access, consented_by: request.consented_by, consented_at: request.consented_at })
    }

    /// The directories asked for since the last change, newest first, one per directory, with
    /// what step 3 would say of each (the owner only). The same tests as the preview: a usable
    /// consent is one given and not expired, and a disabled subscription maps nothing.
    pub async fn requested_directories(&self, actor: &Actor, id: SubscriptionId) -> Result<Vec<RequestedDirectory>, Error> {
        let mut tx = self.read().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        let now = self.clock.now();
        let mut out: Vec<RequestedDirectory> = Vec::new();
        for r in tx.list_directory_requests(id).await? {
            if r.tenant_id == s.directory_tenant_id {
                continue;
            }
            let usable = r.consented_at.filter(|_| r.expires_at > now);
            match out.iter_mut().find(|d| d.directory.id == r.tenant_id) {
                Some(d) => d.consented_at = d.consented_at.or(usable),
                None => {
                    let directory = self.require_tenant(tx.as_mut(), r.tenant_id).await?;
                    out.push(RequestedDirectory { directory, consented_at: usable, refusal: None });
                }
            }
        }
        for d in &mut out {
            d.refusal = match (require_active(&s), d.consented_at) {
                (Err(e), _) => Some(e),
                (Ok(()), None) => Some(Error::new(ErrorCode::DirectoryNotConsented).with_target("tenantId")),
                (Ok(()), Some(_)) => None,
            };
        }
        Ok(out)
    }

    /// The directory step 3 names: a GUID, or the domain of a directory asked for in step 1 (so a
    /// domain tells the owner nothing step 1 did not).
    pub async fn directory_for_change(&self, actor: &Actor, id: SubscriptionId, reference: &str) -> Result<TenantId, Error> {
        // A GUID has no dot, so it is never a domain.
        let Ok(domain) = TenantDomain::parse(reference.trim()) else { return parse_directory(reference.trim()) };
        let requested = self.requested_directories(actor, id).await?;
        requested.iter().find(|d| d.directory.domain.as_str() == domain.as_str()).map(|d| d.directory.id).ok_or_else(|| {
            Error::new(ErrorCode::DirectoryNotConsented)
                .with_message(format!("The directory '{}' was not asked for: ask for it first (step 1), then have its global administrator consent.", reference.trim()))
                .with_target("tenantId")
        })
    }

    /// Step 3, "Change the associated directory": what confirming would change.
    pub async fn preview_directory_change(&self, actor: &Actor, id: SubscriptionId, to: TenantId) -> Result<DirectoryChange, Error> {
        let mut tx = self.read().await?;
        self.directory_change_in(tx.as_mut(), actor, id, to).await
    }

    /// Step 3, "Confirm directory mapping": the subscription trusts `to`; the old directory's
    /// co-administrators lose access (Azure semantics) and the pending requests are spent.
    pub async fn change_directory(&self, actor: &Actor, id: SubscriptionId, to: TenantId) -> Result<DirectoryChange, Error> {
        let mut tx = self.write().await?;
        let change = self.directory_change_in(tx.as_mut(), actor, id, to).await?;
        tx.delete_coadmins(id).await?;
        // Application co-administrators are of the old directory too: they lose access as well.
        tx.delete_app_coadmins(id).await?;
        let updated = Subscription { directory_tenant_id: to, updated_at: self.clock.now(), ..change.subscription.clone() };
        match tx.update_subscription(&updated).await {
            // A co-administrator of the old directory was added meanwhile (the schema refuses
            // to strand it): the preview is stale.
            Err(StoreError::MissingReference) => {
                return Err(Error::new(ErrorCode::ConcurrentChange).with_message("The co-administrators changed meanwhile: review the change again."));
            }
            r => r?,
        };
        tx.delete_directory_requests(id).await?;
        let removed: Vec<&str> = change.losing_access.iter().map(|u| u.upn.as_str()).collect();
        let removed = removed.join(",");
        let from_id = change.from.id.to_string();
        tx.insert_audit(&self.subscription_audit(
            actor,
            "subscription.directory.change",
            &updated,
            to,
            &[("from", &from_id), ("fromDomain", change.from.domain.as_str()), ("toDomain", change.to.domain.as_str()), ("removedCoadministrators", &removed)],
        ))
        .await?;
        tx.commit().await?;
        Ok(DirectoryChange { subscription: updated, ..change })
    }

    /// Step 4: the owner adds a co-administrator by email. It must be a user of the
    /// subscription's directory, found by userPrincipalName or, failing that, by a unique mail.
    pub async fn add_coadmin(&self, actor: &Actor, id: SubscriptionId, email: &str) -> Result<(Coadmin, User), Error> {
        let email = Email::parse(email, "email")?;
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        require_active(&s)?;
        let directory = self.require_tenant(tx.as_mut(), s.directory_tenant_id).await?;
        let outside = || {
            Error::new(ErrorCode::CoadminOutsideDirectory)
                .with_message(format!("No user of {} has the email {email}: a co-administrator must be a user of the subscription's directory.", directory.domain))
                .with_target("email")
        };
        let user = match tx.find_user_by_upn(directory.id, &email.normalized()).await? {
            Some(u) => u,
            None => {
                let mut by_mail = tx.find_users_by_mail(directory.id, &email.normalized(), 2).await?;
                // Two users with one mail: refuse rather than guess.
                if by_mail.len() != 1 {
                    return Err(outside());
                }
                by_mail.remove(0)
            }
        };
        if user.id == s.owner_user_id {
            return Err(Error::new(ErrorCode::AlreadyCoadmin).with_message("The owner already administers the subscription.").with_target("email"));
        }
        let c = Coadmin { subscription_id: s.id, tenant_id: directory.id, user_id: user.id, added_by: actor.user_id, added_at: self.clock.now() };
        match tx.insert_coadmin(&c).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::AlreadyCoadmin).with_target("email")),
            Err(StoreError::MissingReference) => return Err(outside()),
            r => r?,
        }
        let user_id = user.id.to_string();
        tx.insert_audit(&self.subscription_audit(actor, "subscription.coadmin.add", &s, directory.id, &[("userId", &user_id), ("userPrincipalName", user.upn.as_str())]))
            .await?;
        tx.commit().await?;
        Ok((c, user))
    }

    /// Removes a co-administrator (the owner; allowed on a disabled subscription too, since it
    /// only takes access away).
    pub async fn remove_coadmin(&self, actor: &Actor, id: SubscriptionId, user: UserId) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        let upn = tx.list_coadmins(id).await?.into_iter().find(|(c, _)| c.user_id == user).map(|(_, u)| u.upn.to_string());
        let Some(upn) = upn else { return Err(Error::new(ErrorCode::CoadminNotFound).with_target("userId")) };
        tx.delete_coadmin(id, user).await?;
        let user_id = user.to_string();
        tx.insert_audit(&self.subscription_audit(actor, "subscription.coadmin.remove", &s, s.directory_tenant_id, &[("userId", &user_id), ("userPrincipalName", &upn)]))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Adds an application of the subscription's directory, by appId (client id), as
    /// co-administrator: then its service principal sees the subscription through ARM (`az login
    /// --service-principal`, azure-mgmt-resource). The owner only, on an active subscription.
    pub async fn add_app_coadmin(&self, actor: &Actor, id: SubscriptionId, app_id: &str) -> Result<(AppCoadmin, Application), Error> {
        let client_id = ClientId::parse(app_id.trim(), "appId")?;
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        require_active(&s)?;
        let directory = self.require_tenant(tx.as_mut(), s.directory_tenant_id).await?;
        let outside = || {
            Error::new(ErrorCode::CoadminOutsideDirectory)
                .with_message(format!("{} has no application with appId {client_id}: a co-administrator must be in the subscription's directory.", directory.domain))
                .with_target("appId")
        };
        let app = tx.find_application_by_client_id(directory.id, client_id).await?.ok_or_else(outside)?;
        let c = AppCoadmin { subscription_id: s.id, tenant_id: directory.id, application_id: app.id, added_by: actor.user_id, added_at: self.clock.now() };
        match tx.insert_app_coadmin(&c).await {
            Err(StoreError::Conflict) => {
                return Err(Error::new(ErrorCode::AlreadyCoadmin).with_message("The application is already a co-administrator of this subscription.").with_target("appId"));
            }
            Err(StoreError::MissingReference) => return Err(outside()),
            r => r?,
        }
        let app_id = app.client_id.to_string();
        tx.insert_audit(&self.subscription_audit(actor, "subscription.coadmin.add", &s, directory.id, &[("appId", &app_id), ("displayName", app.display_name.as_str())]))
            .await?;
        tx.commit().await?;
        Ok((c, app))
    }

    /// Removes an application co-administrator (the owner; also on a disabled subscription).
    pub async fn remove_app_coadmin(&self, actor: &Actor, id: SubscriptionId, app_id: &str) -> Result<(), Error> {
        let not_found = || Error::new(ErrorCode::CoadminNotFound).with_message("The application is not a co-administrator of this subscription.").with_target("appId");
        let client_id = ClientId::parse(app_id.trim(), "appId").map_err(|_| not_found())?;
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        let app = tx.find_application_by_client_id(s.directory_tenant_id, client_id).await?.ok_or_else(not_found)?;
        if !tx.delete_app_coadmin(id, app.id).await? {
            return Err(not_found());
        }
        let app_id = app.client_id.to_string();
        tx.insert_audit(&self.subscription_audit(actor, "subscription.coadmin.remove", &s, s.directory_tenant_id, &[("appId", &app_id), ("displayName", app.display_name.as_str())]))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// The application co-administrators, with their applications (owner and co-administrators).
    pub async fn list_app_coadmins(&self, actor: &Actor, id: SubscriptionId) -> Result<Vec<(AppCoadmin, Application)>, Error> {
        let mut tx = self.read().await?;
        self.subscription_role(tx.as_mut(), actor, id).await?;
        let mut out = Vec::new();
        for c in tx.list_app_coadmins(id).await? {
            if let Some(a) = tx.get_application(c.tenant_id, c.application_id).await? {
                out.push((c, a));
            }
        }
        Ok(out)
    }

    /// The Administrators tab: owner and co-administrators may read it.
    pub async fn list_coadmins(&self, actor: &Actor, id: SubscriptionId) -> Result<Vec<(Coadmin, User)>, Error> {
        let mut tx = self.read().await?;
        self.subscription_role(tx.as_mut(), actor, id).await?;
        tx.list_coadmins(id).await.map_err(Error::from)
    }

    /// Disables or enables a subscription (the owner). Disabled ones leave the deployment view.
    pub async fn set_subscription_state(&self, actor: &Actor, id: SubscriptionId, state: SubscriptionState) -> Result<SubscriptionView, Error> {
        let mut tx = self.write().await?;
        let s = self.owned_subscription(tx.as_mut(), actor, id).await?;
        let directory = self.require_tenant(tx.as_mut(), s.directory_tenant_id).await?;
        if s.state == state {
            return Ok(SubscriptionView { subscription: s, directory, role: SubscriptionRole::Owner });
        }
        let s = Subscription { state, updated_at: self.clock.now(), ..s };
        tx.update_subscription(&s).await?;
        let action = match state {
            SubscriptionState::Active => "subscription.enable",
            SubscriptionState::Disabled => "subscription.disable",
        };
        tx.insert_audit(&self.subscription_audit(actor, action, &s, s.directory_tenant_id, &[])).await?;
        tx.commit().await?;
        Ok(SubscriptionView { subscription: s, directory, role: SubscriptionRole::Owner })
    }

    /// The subscription's audit events, newest first (the owner).
    pub async fn list_subscription_audit(&self, actor: &Actor, id: SubscriptionId) -> Result<Vec<crate::audit::AuditEntry>, Error> {
        let mut tx = self.read().await?;
        self.owned_subscription(tx.as_mut(), actor, id).await?;
        let filter = AuditFilter { target_id: Some(id.to_string()), limit: 500, ..AuditFilter::default() };
        let events = tx.list_audit(&filter).await?;
        self.readable_audit(tx.as_mut(), events).await
    }

    /// Step 5, the account's "Web storefront deployment" view: the Subscription drop-down lists
    /// the caller's active subscriptions (as owner or co-administrator) whose directory is
    /// associated with the account. Any caller with access to the account may open it.
    pub async fn deployment_subscriptions(&self, actor: &Actor, account: AccountId) -> Result<Vec<SubscriptionView>, Error> {
        let caller = self.account_caller(actor, account).await?;
        if actor.application.is_some() {
            return Ok(Vec::new());
        }
        let mut tx = self.read().await?;
        let list: Vec<Subscription> = tx
            .list_subscriptions_for_user(actor.tenant_id, actor.user_id)
            .await?
            .into_iter()
            .filter(|s| s.state == SubscriptionState::Active && caller.tenants.contains(&s.directory_tenant_id))
            .collect();
        self.views(tx.as_mut(), actor, list).await
    }
}
