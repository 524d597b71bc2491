//! Partner Center–style accounts: tenant associations (R1–R3), members with roles and custom
//! permissions (R4–R9), products, the access check (R7) and the account audit log.
//!
//! Every account operation starts from an [`AccountCaller`]: who is calling, whether they own
//! the account, and the grants (their own and their groups') that the evaluation uses. The same
//! evaluation answers `POST /access/check` and protects this API.

use super::applications::find_app;
use super::groups::NewGroup;
use super::users::{NewUser, find_user, insert_user_checked};
use super::{Services, authz, details};
use crate::access::{Decision, Grant, GrantInput, GrantSource, Level, Program, Role, covers, evaluate, permission};
use crate::actor::Actor;
use crate::audit::{AuditEntry, AuditFilter};
use crate::domain::{DisplayName, Password};
use crate::error::{Error, ErrorCode};
use crate::ids::{AccountId, GroupId, ProductId, TenantId, UserId};
use crate::model::{Account, AccountType, Activity, Member, PendingAssociation, PrincipalRef, Product, Tenant, User};
use crate::page::{ListQuery, Page};
use crate::ports::store::MailOf;
use crate::ports::{StoreError, Tx};
use crate::query::{DirectoryQuery, ObjectKind};
use crate::secret::Secret;
use crate::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Pending associations expire: the credentials were proved a few minutes ago at most.
const ASSOCIATION_SECONDS: i64 = 600;
/// Activity history is kept this long (R12).
pub const ACTIVITY_DAYS: i64 = 30;

#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub name: String,
    /// `company` (default) or `individual`.
    pub account_type: Option<String>,
    /// `developer` (default) or `hardware`.
    pub program: Option<String>,
}

/// A principal named by an adapter: its kind, its id (or userPrincipalName for users), and the
/// tenant it lives in (default: the tenant the caller signed in through).
#[derive(Debug, Clone, Default)]
pub struct PrincipalInput {
    pub kind: String,
    pub id: String,
    pub tenant_id: Option<String>,
}

/// The outcome of one item of a multi-select add (R6).
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub principal: Option<PrincipalRef>,
    pub input: PrincipalInput,
    pub result: Result<Member, Error>,
}

/// A member with what the member lists show.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub member: Member,
    pub grant: Grant,
    pub display_name: String,
    /// userPrincipalName for users, appId for applications.
    pub identifier: Option<String>,
    pub tenant_domain: String,
    pub last_activity: Option<Timestamp>,
    /// "Invitation pending" and similar; reserved for guests.
    pub status: Option<String>,
}

/// Who is calling an account and with which grants.
#[derive(Debug, Clone)]
pub struct AccountCaller {
    pub account: Account,
    pub actor: Actor,
    pub is_owner: bool,
    pub grants: Vec<(GrantSource, Grant)>,
    /// The tenants associated with the account.
    pub tenants: Vec<TenantId>,
}

impl AccountCaller {
    fn refs(&self) -> Vec<(GrantSource, &Grant)> {
        self.grants.iter().map(|(s, g)| (*s, g)).collect()
    }

    /// The effective access to `permission_id` (R7).
    pub fn decide(&self, permission_id: &str, product: Option<ProductId>, required: Level) -> Result<Decision, Error> {
        let def = permission(permission_id).ok_or_else(|| {
            Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("Unknown permission '{permission_id}'."))
                .with_target("permission")
        })?;
        Ok(evaluate(self.is_owner, &self.refs(), def, product, required))
    }

    /// 403 unless the caller holds `permission_id` at `required`.
    pub fn require(&self, permission_id: &str, required: Level) -> Result<(), Error> {
        if self.decide(permission_id, None, required)?.allowed {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::Forbidden).with_message(format!(
                "This needs the '{}' permission ({}).",
                permission(permission_id).map(|p| p.name).unwrap_or(permission_id),
                required.as_str()
            )))
        }
    }

    /// The caller's access in words, as the account list shows it: "Owner", "Manager",
    /// "Developer, Marketer", "Custom permissions" (Hardware accounts say "Administrator").
    pub fn role_label(&self) -> String {
        if self.is_owner {
            return "Owner".into();
        }
        let mut parts: Vec<&str> = Role::ALL
            .iter()
            .filter(|r| self.grants.iter().any(|(_, g)| g.roles.contains(r)))
            .map(|r| r.display_name(self.account.program))
            .collect();
        if self.grants.iter().any(|(_, g)| !g.permissions.is_empty()) {
            parts.push("Custom permissions");
        }
        if parts.is_empty() { "No access".into() } else { parts.join(", ") }
    }

    pub fn is_manager(&self) -> bool {
        self.is_owner || self.grants.iter().any(|(_, g)| g.roles.contains(&Role::Manager))
    }

    /// Tenants, products and the audit log: the Manager role or the owner.
    pub(super) fn require_manager(&self) -> Result<(), Error> {
        if self.is_manager() {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::Forbidden).with_message("This needs the Manager role (or the owner)."))
        }
    }

    /// A member's activity history (R12) is the owner's alone.
    pub(super) fn require_owner(&self) -> Result<(), Error> {
        if self.is_owner { Ok(()) } else { Err(ErrorCode::OwnerOnly.into()) }
    }

    /// The part of R4 that does not depend on the member: `Account users` read/write, and
    /// (R13) the Manager role for an application.
    pub(super) fn require_user_manager(&self) -> Result<(), Error> {
        self.require("account_users", Level::ReadWrite)?;
        if self.actor.application.is_some() && !self.is_manager() {
            return Err(Error::new(ErrorCode::Forbidden).with_message("An application can manage users only with the Manager role."));
        }
        Ok(())
    }

    /// R4: managing a tenant's principals needs `Account users` read/write, signed in through
    /// that tenant. The owner (outside every directory) may manage access from anywhere.
    pub(super) fn require_user_manager_of(&self, tenant: TenantId) -> Result<(), Error> {
        self.require_user_manager()?;
        if self.is_owner || self.actor.tenant_id == tenant {
            Ok(())
        } else {
            Err(ErrorCode::WrongTenant.into())
        }
    }

    /// Creating users, groups or applications in `tenant` through this account: a company
    /// account (A4), a global administrator signed in through `tenant` (R4), and a tenant that
    /// is not synchronized from an on-premises directory (R5). The create operations run this;
    /// [`AccountCaller::actions`] reports it.
    pub(super) fn require_directory_creator(&self, tenant: &Tenant) -> Result<(), Error> {
        Services::require_company(self)?;
        self.require_directory_admin_of(tenant.id)?;
        if tenant.directory_sync {
            return Err(ErrorCode::DirectorySyncEnabled.into());
        }
        Ok(())
    }

    /// Inviting outside users (R11) into the tenant the caller signed in through: the checks
    /// `invite_guests` runs (a company account and a global administrator). Guests are not
    /// synchronized users, so a directory-sync tenant may invite.
    pub(super) fn require_inviter(&self) -> Result<(), Error> {
        Services::require_company(self)?;
        self.require_directory_admin_of(self.actor.tenant_id)
    }

    /// "Delete from organization" of member `m`: a global administrator signed in through its
    /// tenant (R4), never of themselves. Returns the user to delete.
    pub(super) fn require_deleter_of(&self, m: &Member) -> Result<UserId, Error> {
        self.require_directory_admin_of(m.tenant_id)?;
        let PrincipalRef::User(uid) = m.principal else { return Err(ErrorCode::MemberNotFound.into()) };
        if uid == self.actor.user_id {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("You cannot delete yourself."));
        }
        Ok(uid)
    }

    /// R4: changing the directory needs a global administrator signed in through the tenant.
    pub(crate) fn require_directory_admin_of(&self, tenant: TenantId) -> Result<(), Error> {
        self.require("account_users", Level::ReadWrite)?;
        // The tenant must be one of the account's: the owner is a global admin of the
        // personal-accounts tenant, which is never associated.
        if self.actor.tenant_id == tenant && self.actor.global_admin && self.tenants.contains(&tenant) {
            Ok(())
        } else {
            Err(ErrorCode::GlobalAdminRequired.into())
        }
    }
}

fn parse_account_type(s: Option<&str>) -> Result<AccountType, Error> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(AccountType::Company),
        Some(v) => AccountType::parse(v).ok_or_else(|| {
            Error::new(ErrorCode::InvalidRequest).with_message("'accountType' must be company or individual.").with_target("accountType")
        }),
    }
}

fn parse_program(s: Option<&str>) -> Result<Program, Error> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("developer") => Ok(Program::Developer),
        Some("hardware") => Ok(Program::Hardware),
        Some(_) => Err(Error::new(ErrorCode::InvalidRequest).with_message("'program' must be developer or hardware.").with_target("program")),
    }
}

impl Services {

    /// Opens an account. Its owner is the caller, who must be a personal account (a user of
    /// the personal-accounts tenant).
    pub async fn create_account(&self, actor: &Actor, input: NewAccount) -> Result<Account, Error> {
        authz::active(actor)?;
        super::actions::require_account_opener(actor)?;
        let now = self.clock.now();
        let account = Account {
            id: AccountId::random(self.rng.as_ref()),
            name: DisplayName::parse(&input.name, "name")?,
            account_type: parse_account_type(input.account_type.as_deref())?,
            program: parse_program(input.program.as_deref())?,
            owner_tenant_id: actor.tenant_id,
            owner_user_id: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.write().await?;
        tx.insert_account(&account).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.create", "account", account.id, None, details(&[("name", account.name.as_str())])).in_account(account.id))
            .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// The accounts the caller owns or is a member of, each with the caller's grants (for
    /// [`AccountCaller::role_label`]).
    pub async fn list_accounts(&self, actor: &Actor) -> Result<Vec<AccountCaller>, Error> {
        authz::active(actor)?;
        let mut tx = self.read().await?;
        let groups: Vec<GroupId> = tx.list_user_groups(actor.tenant_id, actor.user_id).await?.iter().map(|g| g.id).collect();
        let principal = UserId::from_uuid(actor.principal().uuid());
        let accounts = tx.list_accounts_for_user(actor.tenant_id, principal, &groups).await?;
        // Membership counts only while the caller's tenant is associated (R3): the caller check
        // answers "not found" otherwise.
        let mut out = Vec::new();
        for a in accounts {
            match self.caller_in(tx.as_mut(), actor, a.id).await {
                Ok(c) => out.push(c),
                Err(e) if e.code == ErrorCode::AccountNotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Who is calling `account`, with their grants. Not the owner and not a member of an
    /// associated tenant: 404, so account ids reveal nothing.
    pub async fn account_caller(&self, actor: &Actor, account: AccountId) -> Result<AccountCaller, Error> {
        authz::active(actor)?;
        let mut tx = self.read().await?;
        self.caller_in(tx.as_mut(), actor, account).await
    }

    pub(crate) async fn caller_in(&self, tx: &mut dyn Tx, actor: &Actor, account_id: AccountId) -> Result<AccountCaller, Error> {
        let not_found = || Error::new(ErrorCode::AccountNotFound).with_target("accountId");
        let account = tx.get_account(account_id).await?.ok_or_else(not_found)?;
        let tenants = tx.account_tenant_ids(account_id).await?;
        if super::actions::is_account_owner(&account, actor) {
            return Ok(AccountCaller { account, actor: actor.clone(), is_owner: true, grants: Vec::new(), tenants });
        }
        // R1/R3: only principals of associated tenants have access.
        if !tenants.contains(&actor.tenant_id) {
            return Err(not_found());
        }
        // Applications are not in groups; users bring their groups' grants (R7).
        let groups: Vec<GroupId> = match actor.application {
            Some(_) => Vec::new(),
            None => tx.user_group_ids(actor.tenant_id, actor.user_id).await?,
        };
        let rows = tx.member_grants(account_id, actor.principal(), &groups).await?;
        let mut grants = Vec::with_capacity(rows.len());
        for m in rows {
            if m.tenant_id != actor.tenant_id {
                continue;
            }
            let source = match m.principal {
                PrincipalRef::Group(g) => GrantSource::Group(g),
                _ => GrantSource::Member,
            };
            grants.push((source, Grant::from_json(&m.grant_json)?));
        }
        if grants.is_empty() {
            return Err(not_found());
        }
        Ok(AccountCaller { account, actor: actor.clone(), is_owner: false, grants, tenants })
    }

    pub async fn get_account(&self, actor: &Actor, account: AccountId) -> Result<AccountCaller, Error> {
        self.account_caller(actor, account).await
    }

    // ------------------------------------------------------------------ tenants (seed 000)

    pub async fn list_account_tenants(&self, actor: &Actor, account: AccountId) -> Result<Vec<(Tenant, Timestamp)>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_settings", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        tx.list_account_tenants(account).await.map_err(Error::from)
    }

    /// Associate an existing tenant, step one: prove credentials of a user of that tenant.
    /// Returns a token for [`Services::confirm_tenant_association`] and the tenant to review.
    /// Global administrator is not needed (seed 000). A user who signs in with a second factor
    /// (an authenticator app, or a global administrator under the tenant's MFA policy) gives
    /// its code as `otp` too: the password alone is refused with `mfa_required`, as Entra
    /// refuses it with AADSTS50076. `source` is the caller's address (sign-in throttling).
    #[allow(clippy::too_many_arguments)]
    pub async fn start_tenant_association(
        &self,
        actor: &Actor,
        account: AccountId,
        tenant: &str,
        username: &str,
        password: &Secret,
        otp: Option<&Secret>,
        source: Option<&str>,
    ) -> Result<(Secret, Tenant), Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_manager()?;
        // Neither form (GUID or domain): a bad request naming 'tenant', not a missing tenant
        // (as for directory requests; a 404 here reads as "the account is gone").
        if TenantId::parse(tenant, "tenant").is_err() && crate::domain::TenantDomain::parse(tenant).is_err() {
            return Err(Error::new(ErrorCode::InvalidRequest)
                .with_message("'tenant' must be a tenant id (GUID) or a tenant domain such as contoso.onatrium.local.")
                .with_target("tenant"));
        }
        let tenant = self.resolve_tenant(tenant).await?;
        let user = self.verify_credentials(&tenant, username, password, source).await?;
        if self.mfa_needed(&tenant, &user).await? {
            if !self.has_totp(tenant.id, user.id).await? {
                return Err(Error::new(ErrorCode::MfaRequired)
                    .with_message("This user must use multi-factor authentication, and has no authenticator app yet: they set one up on Security info first.")
                    .with_target("otp"));
            }
            let Some(code) = otp.filter(|c| !c.expose().trim().is_empty()) else {
                return Err(Error::new(ErrorCode::MfaRequired)
                    .with_message("This user must use multi-factor authentication: give the code from their authenticator app, or a recovery code, as 'otp'.")
                    .with_target("otp"));
            };
            self.verify_second_factor(&tenant, &user, code).await?;
        }
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw);
        let token = Secret::new(format!("atra_{}", URL_SAFE_NO_PAD.encode(raw)));
        let now = self.clock.now();
        let pending = PendingAssociation {
            token_hash: token.sha256(),
            account_id: account,
            tenant_id: tenant.id,
            proved_by: user.id,
            created_by: actor.user_id,
            created_at: now,
            expires_at: now.plus_seconds(ASSOCIATION_SECONDS),
        };
        let mut tx = self.write().await?;
        tx.insert_pending_association(&pending).await?;
        tx.commit().await?;
        Ok((token, tenant))
    }

    /// Associate an existing tenant, step two: Confirm.
    pub async fn confirm_tenant_association(&self, actor: &Actor, account: AccountId, token: &Secret) -> Result<Tenant, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_manager()?;
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let pending = tx
            .take_pending_association(&token.sha256())
            .await?
            .filter(|p| p.account_id == account && p.created_by == actor.user_id && p.expires_at > now)
            .ok_or_else(|| Error::new(ErrorCode::AssociationNotFound).with_target("token"))?;
        let tenant = self.require_tenant(tx.as_mut(), pending.tenant_id).await?;
        match tx.associate_tenant(account, tenant.id, now, Some(actor.user_id)).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::TenantAlreadyAssociated).with_target("tenant")),
            r => r?,
        }
        tx.insert_audit(&self.audit(Some(actor), "account.tenant.associate", "tenant", tenant.id, Some(tenant.id), details(&[("domain", tenant.domain.as_str())])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    /// Create a brand-new tenant from the account (R2): domain prefix, contact email and the
    /// first global administrator, who becomes a Manager of the account so they can sign in and
    /// add users (seed 000). It is associated at once; no email is sent.
    pub async fn create_account_tenant(&self, actor: &Actor, account: AccountId, input: super::NewTenant) -> Result<(Tenant, User), Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_manager()?;
        if input.global_admin.is_none() {
            return Err(Error::new(ErrorCode::MissingField).with_message("A new tenant needs its global administrator.").with_target("globalAdmin"));
        }
        let (tenant, admin) = self.create_tenant_inner(actor, input, Some(account)).await?;
        let admin = admin.ok_or_else(|| Error::internal("the global administrator was not created"))?;
        Ok((tenant, admin))
    }

    /// R3: never the tenant the caller signed in through; the last one only by the owner.
    /// Its principals lose every permission (cascade); the directory is untouched.
    pub async fn remove_account_tenant(&self, actor: &Actor, account: AccountId, tenant: TenantId) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        caller.require_manager()?;
        if tenant == actor.tenant_id {
            return Err(Error::new(ErrorCode::CurrentTenant).with_target("tenantId"));
        }
        let tenants = tx.list_account_tenants(account).await?;
        let Some((t, _)) = tenants.iter().find(|(t, _)| t.id == tenant) else {
            return Err(Error::new(ErrorCode::TenantNotAssociated).with_target("tenantId"));
        };
        if tenants.len() == 1 && !caller.is_owner {
            return Err(Error::new(ErrorCode::OwnerOnly).with_message("Only the owner can remove the last associated tenant."));
        }
        tx.remove_account_tenant(account, tenant).await?;
        // Invitations into the tenant lead nowhere now: their mail must not go out.
        tx.cancel_mail(MailOf::AccountTenant(account, tenant), self.clock.now(), "Cancelled: the tenant was removed from the account").await?;
        tx.insert_audit(&self.audit(Some(actor), "account.tenant.remove", "tenant", tenant, Some(tenant), details(&[("domain", t.domain.as_str())])).in_account(account))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    // ------------------------------------------------------------------ members (seed 002)

    async fn account_products(&self, tx: &mut dyn Tx, account: AccountId) -> Result<Vec<ProductId>, Error> {
        Ok(tx.list_products(account).await?.iter().map(|p| p.id).collect())
    }

    /// Parses a grant and checks R8 (nobody grants what they do not hold).
    pub(crate) async fn checked_grant(&self, tx: &mut dyn Tx, caller: &AccountCaller, input: &GrantInput) -> Result<Grant, Error> {
        let products = self.account_products(tx, caller.account.id).await?;
        let grant = input.parse(&products)?;
        covers(&caller.refs(), caller.is_owner, &grant).map_err(|e| Error::new(ErrorCode::GrantExceedsYours).with_message(e.message).with_target(e.target.unwrap_or_default()))?;
        Ok(grant)
    }

    pub(crate) fn require_company(caller: &AccountCaller) -> Result<(), Error> {
        // A4: individual accounts are single-user.
        if caller.account.account_type == AccountType::Individual { Err(ErrorCode::IndividualAccount.into()) } else { Ok(()) }
    }

    /// Resolves a principal of an associated tenant (default: the caller's tenant).
    async fn resolve_principal(&self, tx: &mut dyn Tx, caller: &AccountCaller, input: &PrincipalInput, field: &str) -> Result<(PrincipalRef, TenantId), Error> {
        let tenant_id = match input.tenant_id.as_deref().filter(|s| !s.is_empty()) {
            Some(t) => TenantId::parse(t, &format!("{field}.tenantId"))?,
            None => caller.actor.tenant_id,
        };
        let associated = tx.list_account_tenants(caller.account.id).await?.iter().any(|(t, _)| t.id == tenant_id);
        if !associated {
            return Err(Error::new(ErrorCode::TenantNotAssociated)
                .with_message("The principal's tenant is not associated with this account.")
                .with_target(format!("{field}.tenantId")));
        }
        let principal = match input.kind.as_str() {
            "user" => PrincipalRef::User(find_user(tx, tenant_id, &input.id).await.map_err(|e| e.with_target(format!("{field}.id")))?.id),
            "group" => {
                let id = GroupId::parse(&input.id, &format!("{field}.id"))?;
                tx.get_group(tenant_id, id)
                    .await?
                    .ok_or_else(|| Error::new(ErrorCode::GroupNotFound).with_target(format!("{field}.id")))?;
                PrincipalRef::Group(id)
            }
            "application" => PrincipalRef::Application(find_app(tx, tenant_id, &input.id).await.map_err(|e| e.with_target(format!("{field}.id")))?.id),
            _ => {
                return Err(Error::new(ErrorCode::InvalidRequest)
                    .with_message("'type' must be user, group or application.")
                    .with_target(format!("{field}.type")));
            }
        };
        Ok((principal, tenant_id))
    }

    /// Who may see the directory of `tenant` to choose principals to add ("Add existing users"):
    /// `Account users` readers, for an associated tenant they signed in through (R4). The owner
    /// (outside every directory) may look at every associated tenant. Anyone else gets a refusal
    /// that says where to sign in, never an empty list.
    async fn require_directory_viewer(&self, actor: &Actor, account: AccountId, tenant: TenantId) -> Result<(), Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        let tenants = tx.list_account_tenants(account).await?;
        let Some((t, _)) = tenants.iter().find(|(t, _)| t.id == tenant) else {
            return Err(Error::new(ErrorCode::TenantNotAssociated).with_message("The tenant is not associated with this account.").with_target("tenantId"));
        };
        if caller.is_owner || actor.tenant_id == tenant {
            return Ok(());
        }
        let own = tenants.iter().find(|(o, _)| o.id == actor.tenant_id).map(|(o, _)| o.domain.to_string()).unwrap_or_else(|| "another tenant".into());
        Err(Error::new(ErrorCode::WrongTenant)
            .with_message(format!(
                "You are signed in through {own}. To see and add the users, groups and applications of {0}, sign in through {0}.",
                t.domain
            ))
            .with_target("tenantId"))
    }

    /// One page of the users of an associated tenant, for "Add existing users".
    pub async fn list_account_tenant_users(&self, actor: &Actor, account: AccountId, tenant: TenantId, q: &ListQuery) -> Result<Page<User>, Error> {
        self.require_directory_viewer(actor, account, tenant).await?;
        let q = DirectoryQuery::search(ObjectKind::User, q)?;
        let rows = self.read().await?.query_users(tenant, &q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    /// One page of the groups of an associated tenant, for "Add existing groups".
    pub async fn list_account_tenant_groups(&self, actor: &Actor, account: AccountId, tenant: TenantId, q: &ListQuery) -> Result<Page<crate::model::Group>, Error> {
        self.require_directory_viewer(actor, account, tenant).await?;
        let q = DirectoryQuery::search(ObjectKind::Group, q)?;
        let rows = self.read().await?.query_groups(tenant, &q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    /// One page of the applications of an associated tenant, for "Add existing applications".
    pub async fn list_account_tenant_applications(&self, actor: &Actor, account: AccountId, tenant: TenantId, q: &ListQuery) -> Result<Page<crate::model::Application>, Error> {
        self.require_directory_viewer(actor, account, tenant).await?;
        let q = DirectoryQuery::search(ObjectKind::Application, q)?;
        let rows = self.read().await?.query_applications(tenant, &q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    /// Adds existing users, groups or applications with one grant (R6), reporting per item.
    /// The grant is checked once: an empty or excessive grant refuses the whole request.
    pub async fn add_members(&self, actor: &Actor, account: AccountId, principals: Vec<PrincipalInput>, grant: &GrantInput) -> Result<Vec<ItemResult>, Error> {
        if principals.is_empty() {
            return Err(Error::new(ErrorCode::MissingField).with_message("Select at least one principal.").with_target("principals"));
        }
        if principals.len() > 100 {
            return Err(Error::new(ErrorCode::InvalidRequest).with_message("At most 100 principals at once.").with_target("principals"));
        }
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadWrite)?;
        Self::require_company(&caller)?;
        let grant = {
            let mut tx = self.read().await?;
            self.checked_grant(tx.as_mut(), &caller, grant).await?
        };
        let grant_json = grant.to_json();
        let mut results = Vec::with_capacity(principals.len());
        for (i, input) in principals.into_iter().enumerate() {
            let field = format!("principals[{i}]");
            // Each item is its own transaction: one failure does not undo the others.
            let outcome: Result<(PrincipalRef, Member), Error> = async {
                let mut tx = self.write().await?;
                let (principal, tenant) = self.resolve_principal(tx.as_mut(), &caller, &input, &field).await?;
                caller.require_user_manager_of(tenant)?;
                let now = self.clock.now();
                let m = Member { account_id: account, tenant_id: tenant, principal, grant_json: grant_json.clone(), added_by: Some(actor.user_id), added_at: now, updated_at: now };
                match tx.insert_member(&m).await {
                    Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::AlreadyMember).with_target(field.clone())),
                    Err(StoreError::MissingReference) => return Err(Error::new(ErrorCode::TenantNotAssociated).with_target(field.clone())),
                    r => r?,
                }
                tx.insert_audit(&self.audit(Some(actor), "account.member.add", principal.kind(), principal.uuid(), Some(tenant), details(&[("grant", &grant_json)])).in_account(account))
                    .await?;
                tx.commit().await?;
                Ok((principal, m))
            }
            .await;
            results.push(match outcome {
                Ok((p, m)) => ItemResult { principal: Some(p), input, result: Ok(m) },
                Err(e) => ItemResult { principal: None, input, result: Err(e) },
            });
        }
        Ok(results)
    }

    /// Creates a user in the caller's tenant and adds it (needs global admin; R5 refuses on
    /// directory-sync tenants). The temporary password is returned once (R10).
    pub async fn create_member_user(&self, actor: &Actor, account: AccountId, user: NewUser, groups: Vec<String>, grant: &GrantInput) -> Result<(Member, super::CreatedUser), Error> {
        let caller = self.account_caller(actor, account).await?;
        let tenant_id = actor.tenant_id;
        let mut tx = self.write().await?;
        let tenant = self.require_tenant(tx.as_mut(), tenant_id).await?;
        caller.require_directory_creator(&tenant)?;
        let grant = self.checked_grant(tx.as_mut(), &caller, grant).await?;
        let mut group_ids = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let id = GroupId::parse(g, &format!("groups[{i}]"))?;
            tx.get_group(tenant_id, id).await?.ok_or_else(|| Error::new(ErrorCode::GroupNotFound).with_target(format!("groups[{i}]")))?;
            group_ids.push(id);
        }
        drop(tx);
        // The directory part follows the same rules as the directory API (names, UPN,
        // recovery email for a global admin); it runs first so its argon2 hash is outside the
        // account transaction.
        let prepared = self.prepare_user(&tenant, user).await?;
        let now = self.clock.now();
        let mut tx = self.write().await?;
        insert_user_checked(tx.as_mut(), &prepared.user).await?;
        for g in &group_ids {
            tx.add_group_member(tenant_id, *g, prepared.user.id, now).await?;
        }
        let m = Member {
            account_id: account,
            tenant_id,
            principal: PrincipalRef::User(prepared.user.id),
            grant_json: grant.to_json(),
            added_by: Some(actor.user_id),
            added_at: now,
            updated_at: now,
        };
        tx.insert_member(&m).await.map_err(|e| match e {
            StoreError::MissingReference => Error::new(ErrorCode::TenantNotAssociated),
            e => Error::from(e),
        })?;
        tx.insert_audit(&self.audit(Some(actor), "user.create", "user", prepared.user.id, Some(tenant_id), details(&[("userPrincipalName", prepared.user.upn.as_str())])))
            .await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.create", "user", prepared.user.id, Some(tenant_id), details(&[("grant", &m.grant_json)])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok((m, prepared))
    }

    /// "Create a new application" (§7.3): registers it in the caller's tenant (global admin; R5)
    /// and adds it with `grant`, in one transaction, so a refused grant leaves no app behind.
    pub async fn create_member_application(&self, actor: &Actor, account: AccountId, input: super::NewApplication, grant: &GrantInput) -> Result<(Member, crate::model::Application), Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        caller.require_directory_creator(&tenant)?;
        let grant = self.checked_grant(tx.as_mut(), &caller, grant).await?;
        let app = self.new_application(actor.tenant_id, input)?;
        let mut tx = self.insert_application_open(tx, actor, &app).await?;
        let now = self.clock.now();
        let m = Member {
            account_id: account,
            tenant_id: actor.tenant_id,
            principal: PrincipalRef::Application(app.id),
            grant_json: grant.to_json(),
            added_by: Some(actor.user_id),
            added_at: now,
            updated_at: now,
        };
        tx.insert_member(&m).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.create", "application", app.id, Some(actor.tenant_id), details(&[("grant", &m.grant_json)])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok((m, app))
    }

    /// Creates a group in the caller's tenant with members and adds it with a grant.
    pub async fn create_member_group(&self, actor: &Actor, account: AccountId, group: NewGroup, grant: &GrantInput) -> Result<(Member, crate::model::Group), Error> {
        let caller = self.account_caller(actor, account).await?;
        // The group, its members and the grant: one transaction, so a refused grant leaves no
        // group behind.
        let mut tx = self.write().await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        caller.require_directory_creator(&tenant)?;
        let grant = self.checked_grant(tx.as_mut(), &caller, grant).await?;
        let g = self.create_group_in(tx.as_mut(), actor, actor.tenant_id, group).await?;
        let now = self.clock.now();
        let m = Member { account_id: account, tenant_id: actor.tenant_id, principal: PrincipalRef::Group(g.id), grant_json: grant.to_json(), added_by: Some(actor.user_id), added_at: now, updated_at: now };
        tx.insert_member(&m).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.create", "group", g.id, Some(actor.tenant_id), details(&[("grant", &m.grant_json)])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok((m, g))
    }

    pub(super) async fn find_member(&self, tx: &mut dyn Tx, account: AccountId, kind: &str, id: &str) -> Result<Member, Error> {
        let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::new(ErrorCode::InvalidId).with_target("principalId"))?;
        let principal = PrincipalRef::from_parts(kind, uuid)
            .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).with_message("The principal type must be user, group or application.").with_target("type"))?;
        // R8/A18: the owner is outside the member list and can be neither edited nor removed.
        if let Some(a) = tx.get_account(account).await?
            && principal == PrincipalRef::User(a.owner_user_id)
        {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("The owner cannot be edited or removed.").with_target("principalId"));
        }
        tx.get_member(account, principal).await?.ok_or_else(|| Error::new(ErrorCode::MemberNotFound).with_target("principalId"))
    }

    /// R9: a grant edit changes account access only.
    pub async fn update_member_grant(&self, actor: &Actor, account: AccountId, kind: &str, id: &str, grant: &GrantInput) -> Result<Member, Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        let mut m = self.find_member(tx.as_mut(), account, kind, id).await?;
        caller.require_user_manager_of(m.tenant_id)?;
        let grant = self.checked_grant(tx.as_mut(), &caller, grant).await?;
        m.grant_json = grant.to_json();
        m.updated_at = self.clock.now();
        tx.update_member_grant(account, m.principal, &m.grant_json, m.updated_at).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.update", m.principal.kind(), m.principal.uuid(), Some(m.tenant_id), details(&[("grant", &m.grant_json)])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// Removes a member from the account; the directory object remains (R9).
    pub async fn remove_member(&self, actor: &Actor, account: AccountId, kind: &str, id: &str) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        let m = self.find_member(tx.as_mut(), account, kind, id).await?;
        caller.require_user_manager_of(m.tenant_id)?;
        tx.delete_member(account, m.principal).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.remove", m.principal.kind(), m.principal.uuid(), Some(m.tenant_id), details(&[])).in_account(account))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// "Delete from organization": removes the member and deletes the user from the directory.
    pub async fn delete_member_from_organization(&self, actor: &Actor, account: AccountId, user_id: &str) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        let m = self.find_member(tx.as_mut(), account, "user", user_id).await?;
        let uid = caller.require_deleter_of(&m)?;
        let u = find_user(tx.as_mut(), m.tenant_id, &uid.to_string()).await?;
        // The directory object is its source's to delete; removing the membership stays ours (R9).
        if u.provisioning.is_some() {
            return Err(super::provisioning::source_owned("user"));
        }
        tx.delete_user(m.tenant_id, uid).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.delete_from_organization", "user", uid, Some(m.tenant_id), details(&[("userPrincipalName", u.upn.as_str())])).in_account(account))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// Resets a member user's password (global admin): a temporary password, shown once and
    /// changed at the next sign-in; sessions and refresh tokens end.
    pub async fn reset_member_password(&self, actor: &Actor, account: AccountId, user_id: &str) -> Result<Secret, Error> {
        let caller = self.account_caller(actor, account).await?;
        let (tenant_id, uid) = {
            let mut tx = self.read().await?;
            let m = self.find_member(tx.as_mut(), account, "user", user_id).await?;
            (m.tenant_id, self.require_password_resetter(tx.as_mut(), &caller, &m).await?)
        };
        let password = Password::generate(self.rng.as_ref());
        let hash = self.hasher.hash(password.secret()).await?;
        let mut tx = self.write().await?;
        let mut u = find_user(tx.as_mut(), tenant_id, &uid.to_string()).await?;
        u.password_hash = Some(hash);
        u.must_change_password = true;
        u.updated_at = self.clock.now();
        tx.update_user(&u).await?;
        tx.delete_user_sessions(uid, None).await?;
        tx.revoke_user_refresh_tokens(uid, u.updated_at).await?;
        tx.insert_audit(&self.audit(Some(actor), "account.member.reset_password", "user", uid, Some(tenant_id), details(&[])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok(password.secret().clone())
    }

    /// Who may reset member `m`'s password, in the order [`Services::reset_member_password`]
    /// checks it: a user who is not a pending guest, and a global administrator signed in
    /// through the user's tenant (A2, R4). Directory sync does not matter: R5 forbids creating
    /// objects in a synchronized tenant, not resetting passwords. Returns the user.
    pub(super) async fn require_password_resetter(&self, tx: &mut dyn Tx, caller: &AccountCaller, m: &Member) -> Result<UserId, Error> {
        let PrincipalRef::User(uid) = m.principal else { return Err(ErrorCode::MemberNotFound.into()) };
        // A guest signs in only after accepting (R11): a password set for them here would
        // skip the invitation.
        if tx.pending_invitation_of_user(uid).await?.is_some() {
            return Err(Error::new(ErrorCode::GuestNotAccepted).with_target("principalId"));
        }
        caller.require_directory_admin_of(m.tenant_id)?;
        Ok(uid)
    }

    /// Members with names and last activity. Owners and `Account users` readers.
    pub async fn list_members(&self, actor: &Actor, account: AccountId) -> Result<Vec<MemberView>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        let tenants = tx.list_account_tenants(account).await?;
        let last = tx.last_activity(account).await?;
        let pending = self.pending_guests(tx.as_mut(), account).await?;
        let mut out = Vec::new();
        for m in tx.list_members(account).await? {
            let (display_name, identifier) = match m.principal {
                PrincipalRef::User(id) => match tx.get_user(m.tenant_id, id).await? {
                    Some(u) => (u.display_name.to_string(), Some(u.upn.to_string())),
                    None => continue,
                },
                PrincipalRef::Group(id) => match tx.get_group(m.tenant_id, id).await? {
                    Some(g) => (g.name.to_string(), None),
                    None => continue,
                },
                PrincipalRef::Application(id) => match tx.get_application(m.tenant_id, id).await? {
                    Some(a) => (a.display_name.to_string(), Some(a.client_id.to_string())),
                    None => continue,
                },
            };
            out.push(MemberView {
                grant: Grant::from_json(&m.grant_json)?,
                tenant_domain: tenants.iter().find(|(t, _)| t.id == m.tenant_id).map(|(t, _)| t.domain.to_string()).unwrap_or_default(),
                last_activity: last.iter().find(|(p, _)| *p == m.principal).map(|(_, t)| *t),
                display_name,
                identifier,
                // Seed 002: "Invitation pending" is shown in place of the name until accepted.
                status: match m.principal {
                    PrincipalRef::User(id) if pending.contains(&id) => Some("Invitation pending".to_owned()),
                    _ => None,
                },
                member: m,
            });
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ products

    pub async fn list_products(&self, actor: &Actor, account: AccountId) -> Result<Vec<Product>, Error> {
        self.account_caller(actor, account).await?;
        let mut tx = self.read().await?;
        tx.list_products(account).await.map_err(Error::from)
    }

    /// Creating a product is "New apps" read/write (reserve a name).
    pub async fn create_product(&self, actor: &Actor, account: AccountId, name: &str) -> Result<Product, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("new_apps", Level::ReadWrite)?;
        let p = Product { id: ProductId::random(self.rng.as_ref()), account_id: account, name: DisplayName::parse(name, "name")?, created_at: self.clock.now() };
        let mut tx = self.write().await?;
        match tx.insert_product(&p).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::ProductNameTaken).with_target("name")),
            r => r?,
        }
        tx.insert_audit(&self.audit(Some(actor), "account.product.create", "product", p.id, None, details(&[("name", p.name.as_str())])).in_account(account))
            .await?;
        tx.commit().await?;
        Ok(p)
    }

    pub async fn delete_product(&self, actor: &Actor, account: AccountId, product: ProductId) -> Result<(), Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_manager()?;
        let mut tx = self.write().await?;
        if !tx.delete_product(account, product).await? {
            return Err(Error::new(ErrorCode::ProductNotFound).with_target("productId"));
        }
        tx.insert_audit(&self.audit(Some(actor), "account.product.delete", "product", product, None, details(&[])).in_account(account))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    // ------------------------------------------------------------------ access check (R7)

    /// The effective access of a principal of the account. Callers: the owner, holders of
    /// `Account users` read, or a principal asking about itself.
    pub async fn check_access(
        &self,
        actor: &Actor,
        account: AccountId,
        principal: Option<&PrincipalInput>,
        token: Option<&str>,
        permission_id: &str,
        product: Option<&str>,
    ) -> Result<Decision, Error> {
        let caller = self.account_caller(actor, account).await?;
        let product = match product.filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                let id = ProductId::parse(p, "product")?;
                let mut tx = self.read().await?;
                if !self.account_products(tx.as_mut(), account).await?.contains(&id) {
                    return Err(Error::new(ErrorCode::ProductNotFound).with_message("The product is not one of this account's.").with_target("product"));
                }
                Some(id)
            }
        };
        if let Some(jwt) = token.filter(|t| !t.is_empty()) {
            // Whose token is it? A service behind the account asks on behalf of its caller.
            caller.require("account_users", Level::ReadOnly)?;
            let (p, tenant) = self.verify_token_subject(jwt).await.map_err(|e| e.with_target("token"))?;
            let mut tx = self.read().await?;
            if !caller.tenants.contains(&tenant) {
                return Err(Error::new(ErrorCode::TenantNotAssociated).with_target("token"));
            }
            let target = self.principal_caller(tx.as_mut(), &caller.account, p, tenant).await?;
            return target.decide(permission_id, product, Level::ReadOnly);
        }
        let Some(input) = principal else {
            return caller.decide(permission_id, product, Level::ReadOnly);
        };
        caller.require("account_users", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        let (p, tenant) = self.resolve_principal(tx.as_mut(), &caller, input, "principal").await?;
        let target = self.principal_caller(tx.as_mut(), &caller.account, p, tenant).await?;
        target.decide(permission_id, product, Level::ReadOnly)
    }

    /// The grants of any principal (for the access check of someone else).
    async fn principal_caller(&self, tx: &mut dyn Tx, account: &Account, p: PrincipalRef, tenant: TenantId) -> Result<AccountCaller, Error> {
        let groups: Vec<GroupId> = match p {
            PrincipalRef::User(u) => tx.list_user_groups(tenant, u).await?.iter().map(|g| g.id).collect(),
            _ => Vec::new(),
        };
        let rows = tx.member_grants(account.id, p, &groups).await?;
        let mut grants = Vec::new();
        for m in rows {
            let source = match m.principal {
                PrincipalRef::Group(g) if PrincipalRef::Group(g) != p => GrantSource::Group(g),
                _ => GrantSource::Member,
            };
            grants.push((source, Grant::from_json(&m.grant_json)?));
        }
        let user_id = match p {
            PrincipalRef::User(u) => u,
            _ => UserId::from_uuid(p.uuid()),
        };
        let actor = Actor { user_id, tenant_id: tenant, session_id: crate::ids::SessionId::from_uuid(uuid::Uuid::nil()), global_admin: false, must_change_password: false, application: None, access: crate::actor::Access::Direct };
        Ok(AccountCaller { account: account.clone(), actor, is_owner: false, grants, tenants: Vec::new() })
    }

    // ------------------------------------------------------------------ audit and activity

    /// The account's audit log, filtered by actor, target and time (owner and Managers), as
    /// people read it: names of people and objects, roles and permissions in words.
    pub async fn list_account_audit(&self, actor: &Actor, account: AccountId, mut filter: AuditFilter) -> Result<Vec<AuditEntry>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_manager()?;
        filter.account_id = Some(account);
        filter.tenant_id = None;
        // Refused, not clamped: the API documents 1 to 500, as `GET /api/v1/audit` does.
        if !(1..=500).contains(&filter.limit) {
            return Err(Error::new(ErrorCode::InvalidLimit).with_message("'limit' must be between 1 and 500.").with_target("limit"));
        }
        let mut tx = self.read().await?;
        let events = tx.list_audit(&filter).await?;
        self.readable_audit(tx.as_mut(), events).await
    }

    /// Stores a batch of activity rows (the server batches them off the request path).
    pub async fn record_activity(&self, rows: &[Activity]) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        tx.insert_activity(rows).await?;
        tx.commit().await.map_err(Error::from)
    }

    /// A member's history of the last 30 days (R12): the owner only.
    pub async fn member_activity(&self, actor: &Actor, account: AccountId, kind: &str, id: &str) -> Result<Vec<Activity>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require_owner()?;
        let mut tx = self.read().await?;
        let m = self.find_member(tx.as_mut(), account, kind, id).await?;
        let since = self.clock.now().plus_seconds(-ACTIVITY_DAYS * 86_400);
        tx.list_activity(account, m.principal, since, 1000).await.map_err(Error::from)
    }

    /// Deletes activity older than 30 days; run periodically.
    pub async fn purge_activity(&self) -> Result<u64, Error> {
        let before = self.clock.now().plus_seconds(-ACTIVITY_DAYS * 86_400);
        let mut tx = self.write().await?;
        let n = tx.purge_activity(before).await?;
        tx.commit().await?;
        Ok(n)
    }
}
