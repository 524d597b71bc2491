//! Users: create, read, update, delete, list and search within one tenant.

use super::{Services, authz, details, opt};
use crate::actor::Actor;
use crate::domain::{DisplayName, Email, Password, PersonName, Upn};
use crate::actor::Access;
use crate::error::{Error, ErrorCode};
use crate::graph::DirectoryOp;
use crate::ids::{TenantId, UserId};
use crate::model::{Group, Tenant, User};
use crate::page::{ListQuery, Page};
use crate::query::{DirectoryQuery, ObjectKind};
use crate::ports::{StoreError, Tx};
use crate::secret::Secret;

pub(crate) const OWNER_META_KEY: &str = "owner_user_id";

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// `alias@domain`, or just the alias (the tenant's domain is added).
    pub user_principal_name: String,
    /// Defaults to "given surname", else the alias.
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    /// Without a password a temporary one is generated, returned once, and must be changed at
    /// the next sign-in (R10).
    pub password: Option<String>,
    pub force_change_password: Option<bool>,
    pub global_admin: bool,
    pub recovery_email: Option<String>,
    pub enabled: Option<bool>,
}

/// A created user, with the temporary password when one was generated. It is shown once.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub temporary_password: Option<Secret>,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    /// `Some(None)` clears the value.
    pub given_name: Option<Option<String>>,
    pub surname: Option<Option<String>>,
    pub mail: Option<Option<String>>,
    pub recovery_email: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub global_admin: Option<bool>,
}

impl Services {
    pub async fn create_user(&self, actor: &Actor, tenant_id: TenantId, input: NewUser) -> Result<CreatedUser, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteUsers)?;
        if input.global_admin && actor.access != Access::Direct {
            // Directory roles are not Graph user properties: Entra needs RoleManagement for them.
            return Err(authz::insufficient_privileges());
        }
        let tenant = self.tenant_for_write(tenant_id).await?;
        if tenant.directory_sync {
            return Err(ErrorCode::DirectorySyncEnabled.into());
        }
        let CreatedUser { user, temporary_password } = self.prepare_user(&tenant, input).await?;
        let mut tx = self.write().await?;
        insert_user_checked(tx.as_mut(), &user).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "user.create",
            "user",
            user.id,
            Some(tenant_id),
            details(&[("userPrincipalName", user.upn.as_str()), ("globalAdmin", &user.global_admin.to_string())]),
        ))
        .await?;
        tx.commit().await?;
        Ok(CreatedUser { user, temporary_password })
    }

    /// Parses a new user for `tenant` and hashes its password (outside any transaction).
    pub(crate) async fn prepare_user(&self, tenant: &Tenant, input: NewUser) -> Result<CreatedUser, Error> {
        let tenant_id = tenant.id;
        let upn = parse_upn_in(tenant, &input.user_principal_name, "userPrincipalName")?;
        let given_name = opt(input.given_name.as_deref(), |s| PersonName::parse(s, "givenName"))?;
        let surname = opt(input.surname.as_deref(), |s| PersonName::parse(s, "surname"))?;
        let display_name = match input.display_name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => DisplayName::parse(s, "displayName")?,
            None => {
                let full = [given_name.as_ref().map(|g| g.as_str()), surname.as_ref().map(|s| s.as_str())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                DisplayName::parse(if full.is_empty() { upn.alias() } else { &full }, "displayName")?
            }
        };
        let mail = opt(input.mail.as_deref(), |s| Email::parse(s, "mail"))?;
        let recovery_email = opt(input.recovery_email.as_deref(), |s| Email::parse(s, "recoveryEmail"))?;
        if input.global_admin && recovery_email.is_none() {
            return Err(Error::new(ErrorCode::RecoveryEmailRequired).with_target("recoveryEmail"));
        }
        let (password, generated) = match input.password.as_deref() {
            Some(p) => (Password::parse(p, "password")?, false),
            None => (Password::generate(self.rng.as_ref()), true),
        };
        let hash = self.hasher.hash(password.secret()).await?;
        let now = self.clock.now();
        let user = User {
            given_name,
            surname,
            mail,
            enabled: input.enabled.unwrap_or(true),
            must_change_password: generated || input.force_change_password.unwrap_or(false),
            recovery_email,
            global_admin: input.global_admin,
            ..User::new_member(UserId::random(self.rng.as_ref()), tenant_id, upn, display_name, hash, now)
        };
        Ok(CreatedUser { user, temporary_password: generated.then(|| password.secret().clone()) })
    }

    /// Finds a user by id, or by userPrincipalName when `reference` is not a GUID.
    pub async fn get_user(&self, actor: &Actor, tenant_id: TenantId, reference: &str) -> Result<User, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadUsers)?;
        let mut tx = self.read().await?;
        find_user(tx.as_mut(), tenant_id, reference).await
    }

    pub async fn list_users(&self, actor: &Actor, tenant_id: TenantId, q: &ListQuery) -> Result<Page<User>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadUsers)?;
        self.query_users(actor, tenant_id, &DirectoryQuery::search(ObjectKind::User, q)?).await
    }

    /// One page of the tenant's users that match a directory query (REST `search` now;
    /// Graph `$filter` and SCIM `filter` parse into the same query).
    pub async fn query_users(&self, actor: &Actor, tenant_id: TenantId, q: &DirectoryQuery) -> Result<Page<User>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadUsers)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        let rows = tx.query_users(tenant_id, q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    /// The signed-in user (Graph `/me`). App-only callers have no user: Graph answers 400.
    pub async fn get_me(&self, actor: &Actor) -> Result<User, Error> {
        if actor.application.is_some() {
            return Err(Error::new(ErrorCode::InvalidRequest).with_message("/me request is only valid with delegated authentication flow."));
        }
        authz::directory(actor, actor.tenant_id, DirectoryOp::ReadSelf)?;
        let mut tx = self.read().await?;
        find_user(tx.as_mut(), actor.tenant_id, &actor.user_id.to_string()).await
    }

    /// How many of the tenant's users match a query (its filter; the page is ignored).
    pub async fn count_users(&self, actor: &Actor, tenant_id: TenantId, q: &DirectoryQuery) -> Result<u64, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadUsers)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        Ok(tx.count_users(tenant_id, q).await?)
    }

    pub async fn list_user_groups(&self, actor: &Actor, tenant_id: TenantId, user_id: UserId) -> Result<Vec<Group>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadUsers)?;
        let mut tx = self.read().await?;
        find_user(tx.as_mut(), tenant_id, &user_id.to_string()).await?;
        tx.list_user_groups(tenant_id, user_id).await.map_err(Error::from)
    }

    pub async fn update_user(&self, actor: &Actor, tenant_id: TenantId, user_id: UserId, patch: UserPatch) -> Result<User, Error> {
        self.edit_user(actor, tenant_id, user_id, patch, &[], &[]).await
    }

    /// Seed 002's "Edit a user": the details and group membership in one transaction, so a
    /// refused group change leaves the details unchanged too. An empty patch changes nothing.
    pub async fn edit_user(
        &self,
        actor: &Actor,
        tenant_id: TenantId,
        user_id: UserId,
        patch: UserPatch,
        add_groups: &[crate::ids::GroupId],
        remove_groups: &[crate::ids::GroupId],
    ) -> Result<User, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteUsers)?;
        if actor.access != Access::Direct && (patch.global_admin.is_some() || !add_groups.is_empty() || !remove_groups.is_empty()) {
            return Err(authz::insufficient_privileges());
        }
        let tenant = self.tenant_for_write(tenant_id).await?;
        let upn = opt(patch.user_principal_name.as_deref(), |s| parse_upn_in(&tenant, s, "userPrincipalName"))?;
        let display_name = opt(patch.display_name.as_deref(), |s| DisplayName::parse(s, "displayName"))?;
        let given_name = clearable(&patch.given_name, |s| PersonName::parse(s, "givenName"))?;
        let surname = clearable(&patch.surname, |s| PersonName::parse(s, "surname"))?;
        let mail = clearable(&patch.mail, |s| Email::parse(s, "mail"))?;
        let recovery_email = clearable(&patch.recovery_email, |s| Email::parse(s, "recoveryEmail"))?;
        let is_self = actor.user_id == user_id && actor.tenant_id == tenant_id;
        if is_self && (patch.enabled == Some(false) || patch.global_admin == Some(false)) {
            return Err(Error::new(ErrorCode::ProtectedObject)
                .with_message("You cannot disable yourself or remove your own global administrator role.")
                .with_target(if patch.enabled == Some(false) { "enabled" } else { "globalAdmin" }));
        }
        let mut tx = self.write().await?;
        let mut u = find_user(tx.as_mut(), tenant_id, &user_id.to_string()).await?;
        privileged_target(actor, &u)?;
        let synced = upn.is_some() || display_name.is_some() || given_name.is_some() || surname.is_some() || mail.is_some() || patch.enabled.is_some();
        if u.provisioning.is_some() && synced {
            return Err(super::provisioning::source_owned("user"));
        }
        if self.is_owner(tx.as_mut(), user_id).await?
            && (patch.enabled == Some(false) || patch.global_admin == Some(false) || upn.is_some())
        {
            return Err(Error::new(ErrorCode::ProtectedObject)
                .with_message("The owner cannot be disabled, renamed or lose the global administrator role."));
        }
        let mut changed: Vec<(&str, String)> = Vec::new();
        if let Some(v) = upn {
            changed.push(("userPrincipalName", v.to_string()));
            u.upn = v;
        }
        if let Some(v) = display_name {
            changed.push(("displayName", v.to_string()));
            u.display_name = v;
        }
        if let Some(v) = given_name {
            changed.push(("givenName", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            u.given_name = v;
        }
        if let Some(v) = surname {
            changed.push(("surname", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            u.surname = v;
        }
        if let Some(v) = mail {
            changed.push(("mail", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            u.mail = v;
        }
        if let Some(v) = recovery_email {
            changed.push(("recoveryEmail", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            u.recovery_email = v;
        }
        if let Some(v) = patch.global_admin {
            changed.push(("globalAdmin", v.to_string()));
            u.global_admin = v;
        }
        if u.global_admin && u.recovery_email.is_none() && patch.global_admin == Some(true) {
            return Err(Error::new(ErrorCode::RecoveryEmailRequired).with_target("recoveryEmail"));
        }
        if let Some(v) = patch.enabled {
            changed.push(("enabled", v.to_string()));
            u.enabled = v;
        }
        let now = self.clock.now();
        if !changed.is_empty() {
            u.updated_at = now;
            match tx.update_user(&u).await {
                Err(StoreError::Conflict) => return Err(upn_taken(&u.upn)),
                r => r?,
            };
            if patch.enabled == Some(false) || patch.global_admin == Some(false) {
                // A disabled or demoted user must not keep acting on an old session.
                tx.delete_user_sessions(u.id, None).await?;
                tx.revoke_user_refresh_tokens(u.id, u.updated_at).await?;
            }
            let pairs: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
            tx.insert_audit(&self.audit(Some(actor), "user.update", "user", u.id, Some(tenant_id), details(&pairs)))
                .await?;
        }
        let uid = u.id.to_string();
        for (g, adding) in add_groups.iter().map(|g| (*g, true)).chain(remove_groups.iter().map(|g| (*g, false))) {
            super::groups::change_membership(tx.as_mut(), tenant_id, g, u.id, adding, now).await.map_err(|e| e.with_target("groups"))?;
            let action = if adding { "group.member.add" } else { "group.member.remove" };
            tx.insert_audit(&self.audit(Some(actor), action, "group", g, Some(tenant_id), details(&[("userId", &uid)]))).await?;
        }
        tx.commit().await?;
        Ok(u)
    }

    pub async fn delete_user(&self, actor: &Actor, tenant_id: TenantId, user_id: UserId) -> Result<(), Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteUsers)?;
        if actor.user_id == user_id {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("You cannot delete yourself."));
        }
        let mut tx = self.write().await?;
        let u = find_user(tx.as_mut(), tenant_id, &user_id.to_string()).await?;
        privileged_target(actor, &u)?;
        if u.provisioning.is_some() {
            return Err(super::provisioning::source_owned("user"));
        }
        if self.is_owner(tx.as_mut(), user_id).await? {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("The owner cannot be deleted."));
        }
        match tx.delete_user(tenant_id, user_id).await {
            // A personal account that owns accounts or subscriptions (seed 003) stays.
            Err(StoreError::MissingReference) => {
                return Err(Error::new(ErrorCode::ProtectedObject).with_message("This user owns accounts or subscriptions and cannot be deleted."));
            }
            r => r?,
        };
        tx.insert_audit(&self.audit(
            Some(actor),
            "user.delete",
            "user",
            user_id,
            Some(tenant_id),
            details(&[("userPrincipalName", u.upn.as_str())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    pub(crate) async fn is_owner(&self, tx: &mut dyn Tx, user_id: UserId) -> Result<bool, Error> {
        Ok(tx.get_meta(OWNER_META_KEY).await?.as_deref() == Some(&user_id.to_string()))
    }

    async fn tenant_for_write(&self, tenant_id: TenantId) -> Result<Tenant, Error> {
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await
    }

    pub(crate) async fn require_tenant(&self, tx: &mut dyn Tx, tenant_id: TenantId) -> Result<Tenant, Error> {
        tx.get_tenant(tenant_id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::TenantNotFound).with_target("tenantId"))
    }
}

pub(crate) async fn insert_user_checked(tx: &mut dyn Tx, user: &User) -> Result<(), Error> {
    match tx.insert_user(user).await {
        Err(StoreError::Conflict) => Err(upn_taken(&user.upn)),
        Err(StoreError::MissingReference) => Err(Error::new(ErrorCode::TenantNotFound).with_target("tenantId")),
        r => r.map_err(Error::from),
    }
}

/// An application (app-only Graph token) may not change or delete a global administrator:
/// Entra asks for a privileged directory role for that, which Graph permissions do not give.
fn privileged_target(actor: &Actor, target: &User) -> Result<(), Error> {
    if actor.application.is_some() && target.global_admin { Err(authz::insufficient_privileges()) } else { Ok(()) }
}

fn upn_taken(upn: &Upn) -> Error {
    Error::new(ErrorCode::UpnTaken)
        .with_message(format!("Another user in this tenant already has the user principal name '{upn}'."))
        .with_target("userPrincipalName")
}

/// Parses a UPN for this tenant: a bare alias gets the tenant's domain, and a full UPN must use it.
pub(crate) fn parse_upn_in(tenant: &Tenant, s: &str, field: &str) -> Result<Upn, Error> {
    let upn = Upn::parse_in_domain(s, tenant.domain.as_str()).map_err(|e| e.with_target(field))?;
    if upn.domain() != tenant.domain.as_str() {
        return Err(Error::new(ErrorCode::UpnDomainNotVerified)
            .with_message(format!("'{}' is not a domain of this tenant; use '{}'.", upn.domain(), tenant.domain))
            .with_target(field));
    }
    Ok(upn)
}

/// Finds a user of the tenant by id, userPrincipalName, or bare alias (the tenant's domain is
/// added, as at sign-in).
pub(crate) async fn find_user(tx: &mut dyn Tx, tenant_id: TenantId, reference: &str) -> Result<User, Error> {
    let not_found = || Error::new(ErrorCode::UserNotFound).with_target("userId");
    let found = match UserId::parse(reference, "userId") {
        Ok(id) => tx.get_user(tenant_id, id).await,
        Err(_) if !reference.contains('@') => {
            let Some(tenant) = tx.get_tenant(tenant_id).await? else { return Err(not_found()) };
            match Upn::parse_in_domain(reference, tenant.domain.as_str()) {
                Ok(upn) => tx.find_user_by_upn(tenant_id, &upn.normalized()).await,
                Err(_) => return Err(not_found()),
            }
        }
        Err(_) => match Upn::parse(reference) {
            Ok(upn) => tx.find_user_by_upn(tenant_id, &upn.normalized()).await,
            Err(_) => return Err(not_found()),
        },
    };
    found?.ok_or_else(not_found)
}

fn clearable<T>(v: &Option<Option<String>>, parse: impl FnOnce(&str) -> Result<T, Error>) -> Result<Option<Option<T>>, Error> {
    match v {
        None => Ok(None),
        Some(inner) => opt(inner.as_deref(), parse).map(Some),
    }
}
