//! Provisioned users: created, replaced and deleted by the tenant's source through SCIM.

use super::{CountedPage, Provisioner, check_version};
use crate::domain::{DisplayName, Email, PasswordHash, PersonName, Upn};
use crate::error::{Error, ErrorCode};
use crate::ids::{TenantId, UserId};
use crate::model::{ProvisionedEmail, ProvisionedUser, Tenant, User};
use crate::ports::{StoreError, Tx};
use crate::query::{Attr, DirectoryQuery, Filter, ObjectKind};
use crate::services::Services;
use crate::time::Timestamp;

/// Everything a source asserts about a user: POST and PUT send it whole, and PATCH is applied
/// by the adapter to the current state and sent whole too.
#[derive(Debug, Clone, Default)]
pub struct ProvisionUser {
    /// SCIM `userName`, kept exactly as sent; unique in the tenant, case-insensitively.
    pub user_name: String,
    pub external_id: Option<String>,
    /// Defaults to `name.formatted`, then "given family", then the userName.
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub emails: Vec<ProvisionedEmail>,
    /// Absent: the user is enabled.
    pub active: Option<bool>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub employee_number: Option<String>,
    /// The manager's id (a user of the same tenant).
    pub manager: Option<String>,
}

/// The sign-in name a userName maps to: the userName itself when it is an address in the
/// tenant's domain, else its part before `@` (characters a UPN cannot hold become `_`) at the
/// tenant's domain. A clash with another user gets a short random suffix when created.
pub fn upn_for_user_name(tenant: &Tenant, user_name: &str) -> Result<Upn, Error> {
    if let Ok(upn) = Upn::parse(user_name)
        && upn.domain() == tenant.domain.as_str()
    {
        return Ok(upn);
    }
    let local = user_name.rsplit_once('@').map_or(user_name, |(l, _)| l);
    let mut alias: String = local.chars().map(|c| if c.is_ascii_alphanumeric() || "'-_!#^~+.".contains(c) { c } else { '_' }).collect();
    while alias.contains("..") {
        alias = alias.replace("..", ".");
    }
    let alias: String = alias.trim_matches('.').chars().take(56).collect();
    let alias = alias.trim_end_matches('.');
    let alias = if alias.is_empty() { "user" } else { alias };
    Upn::parse_in_domain(alias, tenant.domain.as_str()).or_else(|_| Upn::parse_in_domain("user", tenant.domain.as_str()))
}

fn invalid(field: &str, message: String) -> Error {
    Error::new(ErrorCode::InvalidRequest).with_message(message).with_target(field)
}

/// A free-text attribute: 1 to `max` characters, no control characters.
pub(super) fn text(v: Option<&str>, field: &str, max: usize) -> Result<Option<String>, Error> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(invalid(field, format!("'{field}' must be at most {max} characters without control characters.")))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

struct Parsed {
    display_name: DisplayName,
    given_name: Option<PersonName>,
    surname: Option<PersonName>,
    mail: Option<Email>,
    provisioning: ProvisionedUser,
}

fn parse(input: &ProvisionUser, manager_of: Option<UserId>) -> Result<(Parsed, Option<UserId>), Error> {
    let user_name = input.user_name.as_str();
    if user_name.trim().is_empty() || user_name.chars().count() > 256 || user_name.chars().any(char::is_control) {
        return Err(invalid("userName", "'userName' is required: 1 to 256 characters without control characters.".into()));
    }
    let given_name = crate::services::opt(input.given_name.as_deref().filter(|s| !s.trim().is_empty()), |s| PersonName::parse(s, "name.givenName"))?;
    let surname = crate::services::opt(input.family_name.as_deref().filter(|s| !s.trim().is_empty()), |s| PersonName::parse(s, "name.familyName"))?;
    let formatted_name = text(input.formatted_name.as_deref(), "name.formatted", 256)?;
    let display = match input.display_name.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => s.to_owned(),
        None => match &formatted_name {
            Some(f) => f.clone(),
            None => {
                let full = [given_name.as_ref().map(PersonName::as_str), surname.as_ref().map(PersonName::as_str)].into_iter().flatten().collect::<Vec<_>>().join(" ");
                if full.is_empty() { user_name.to_owned() } else { full }
            }
        },
    };
    let display_name = DisplayName::parse(&display, "displayName")?;
    let mut mails = Vec::with_capacity(input.emails.len());
    for (i, e) in input.emails.iter().enumerate() {
        let field = format!("emails[{i}].value");
        mails.push(Email::parse(&e.value, &field)?);
        text(e.kind.as_deref(), &format!("emails[{i}].type"), 64)?;
    }
    if input.emails.iter().filter(|e| e.primary).count() > 1 {
        return Err(invalid("emails", "At most one of 'emails' may be primary.".into()));
    }
    // The directory's mail is the primary address, else the work one, else the first.
    let pick = input
        .emails
        .iter()
        .position(|e| e.primary)
        .or_else(|| input.emails.iter().position(|e| e.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("work"))))
        .or(if input.emails.is_empty() { None } else { Some(0) });
    let mail = pick.and_then(|i| mails.get(i).cloned());
    let manager = match input.manager.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(m) => {
            let id = UserId::parse(m.trim(), "manager.value").map_err(|_| invalid("manager.value", format!("'{m}' is not the id of a user of this tenant.")))?;
            if Some(id) == manager_of {
                return Err(invalid("manager.value", "A user cannot be their own manager.".into()));
            }
            Some(id)
        }
    };
    let provisioning = ProvisionedUser {
        user_name: user_name.to_owned(),
        external_id: text(input.external_id.as_deref(), "externalId", 256)?,
        title: text(input.title.as_deref(), "title", 128)?,
        department: text(input.department.as_deref(), "department", 128)?,
        employee_number: text(input.employee_number.as_deref(), "employeeNumber", 64)?,
        manager,
        formatted_name,
        emails: input.emails.clone(),
        active: input.active,
    };
    Ok((Parsed { display_name, given_name, surname, mail, provisioning }, manager))
}

fn user_name_taken(user_name: &str) -> Error {
    Error::new(ErrorCode::UserNameTaken)
        .with_message(format!("Another user in this tenant already has the userName '{user_name}'."))
        .with_target("userName")
}

fn not_found() -> Error {
    Error::new(ErrorCode::UserNotFound).with_message("No user provisioned by SCIM in this tenant has this id.").with_target("id")
}

/// A provisioned user of the tenant by id (users created elsewhere are not SCIM's).
async fn find(tx: &mut dyn Tx, tenant: TenantId, id: &str) -> Result<User, Error> {
    let id = UserId::parse(id, "id").map_err(|_| not_found())?;
    tx.get_user(tenant, id).await?.filter(|u| u.provisioning.is_some()).ok_or_else(not_found)
}

async fn check_manager(tx: &mut dyn Tx, tenant: TenantId, manager: Option<UserId>) -> Result<(), Error> {
    if let Some(m) = manager
        && tx.get_user(tenant, m).await?.is_none()
    {
        return Err(invalid("manager.value", format!("'{m}' is not the id of a user of this tenant.")));
    }
    Ok(())
}

/// Whether another user of the tenant has `user_name` (case-insensitively).
async fn user_name_used(tx: &mut dyn Tx, tenant: TenantId, user_name: &str, except: Option<UserId>) -> Result<bool, Error> {
    let q = DirectoryQuery::new(ObjectKind::User, Some(Filter::text(Attr::UserName, crate::query::Op::Eq, user_name)), None, None, 2)?;
    Ok(tx.query_users(tenant, &q).await?.iter().any(|u| Some(u.id) != except))
}

/// A UPN for `user_name` that no other user of the tenant has.
async fn free_upn(svc: &Services, tx: &mut dyn Tx, tenant: &Tenant, user_name: &str, except: Option<UserId>) -> Result<Upn, Error> {
    let base = upn_for_user_name(tenant, user_name)?;
    let mut upn = base.clone();
    for _ in 0..5 {
        match tx.find_user_by_upn(tenant.id, &upn.normalized()).await? {
            Some(u) if Some(u.id) != except => {
                let mut raw = [0u8; 3];
                svc.rng.fill(&mut raw);
                let suffix: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                let alias: String = base.alias().chars().take(56).collect();
                upn = Upn::parse_in_domain(&format!("{}-{suffix}", alias.trim_end_matches('.')), tenant.domain.as_str())?;
            }
            _ => return Ok(upn),
        }
    }
    Err(user_name_taken(user_name))
}

impl Services {
    pub async fn provision_user(&self, p: &Provisioner, input: ProvisionUser) -> Result<User, Error> {
        let (parsed, manager) = parse(&input, None)?;
        let now = self.clock.now();
        let mut tx = self.write().await?;
        let tenant = self.require_tenant(tx.as_mut(), p.tenant_id).await?;
        check_manager(tx.as_mut(), p.tenant_id, manager).await?;
        if user_name_used(tx.as_mut(), p.tenant_id, &parsed.provisioning.user_name, None).await? {
            return Err(user_name_taken(&parsed.provisioning.user_name));
        }
        let upn = free_upn(self, tx.as_mut(), &tenant, &parsed.provisioning.user_name, None).await?;
        let id = UserId::random(self.rng.as_ref());
        let user = User {
            given_name: parsed.given_name,
            surname: parsed.surname,
            mail: parsed.mail,
            enabled: parsed.provisioning.active.unwrap_or(true),
            // Provisioned people have no password here: an administrator can set a temporary
            // one, or they sign in through the source's federation.
            password_hash: None,
            provisioning: Some(parsed.provisioning),
            ..User::new_member(id, p.tenant_id, upn, parsed.display_name, PasswordHash(String::new()), now)
        };
        match tx.insert_user(&user).await {
            Err(StoreError::Conflict) => return Err(user_name_taken(&input.user_name)),
            r => r?,
        }
        tx.insert_audit(&self.provisioning_audit(p, "user.provision.create", "user", user.id, vec![("userName", input.user_name.clone()), ("userPrincipalName", user.upn.to_string())]))
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn get_provisioned_user(&self, p: &Provisioner, id: &str) -> Result<User, Error> {
        let mut tx = self.read().await?;
        find(tx.as_mut(), p.tenant_id, id).await
    }

    /// Provisioned users matching `filter`, skipping `offset`, at most `count`, with the number of all matches.
    pub async fn query_provisioned_users(&self, p: &Provisioner, filter: Option<Filter>, offset: u32, count: u32) -> Result<CountedPage<User>, Error> {
        let scoped = Filter::And([Some(Filter::Present(Attr::UserName)), filter].into_iter().flatten().collect());
        let q = DirectoryQuery::new(ObjectKind::User, Some(scoped), None, None, count.max(1))?.with_offset(offset);
        let mut tx = self.read().await?;
        let total = tx.count_users(p.tenant_id, &q).await?;
        let mut items = if count == 0 { Vec::new() } else { tx.query_users(p.tenant_id, &q).await? };
        items.truncate(count as usize);
        Ok(CountedPage { items, total })
    }

    /// Replaces what the source says about a user. `expected` is the version the client read
    /// (`If-Match`); a change in between is refused rather than lost.
    pub async fn replace_provisioned_user(&self, p: &Provisioner, id: &str, input: ProvisionUser, expected: Option<Timestamp>) -> Result<User, Error> {
        let mut tx = self.write().await?;
        let mut u = find(tx.as_mut(), p.tenant_id, id).await?;
        check_version(expected, u.updated_at)?;
        let (parsed, manager) = parse(&input, Some(u.id))?;
        check_manager(tx.as_mut(), p.tenant_id, manager).await?;
        let old = u.provisioning.clone().unwrap_or_default();
        if old.user_name != parsed.provisioning.user_name {
            if user_name_used(tx.as_mut(), p.tenant_id, &parsed.provisioning.user_name, Some(u.id)).await? {
                return Err(user_name_taken(&parsed.provisioning.user_name));
            }
            let tenant = self.require_tenant(tx.as_mut(), p.tenant_id).await?;
            if upn_for_user_name(&tenant, &old.user_name).ok() != upn_for_user_name(&tenant, &parsed.provisioning.user_name).ok() {
                u.upn = free_upn(self, tx.as_mut(), &tenant, &parsed.provisioning.user_name, Some(u.id)).await?;
            }
        }
        let was_enabled = u.enabled;
        u.display_name = parsed.display_name;
        u.given_name = parsed.given_name;
        u.surname = parsed.surname;
        u.mail = parsed.mail;
        u.enabled = parsed.provisioning.active.unwrap_or(true);
        u.provisioning = Some(parsed.provisioning);
        // Versions are the modification time: keep them strictly increasing.
        u.updated_at = self.clock.now().max(u.updated_at.plus_millis(1));
        match tx.update_user(&u).await {
            Err(StoreError::Conflict) => return Err(user_name_taken(&input.user_name)),
            r => r?,
        };
        if was_enabled && !u.enabled {
            // Deprovisioning (active: false) ends sign-ins at once.
            tx.delete_user_sessions(u.id, None).await?;
            tx.revoke_user_refresh_tokens(u.id, u.updated_at).await?;
        }
        tx.insert_audit(&self.provisioning_audit(p, "user.provision.update", "user", u.id, vec![("userName", input.user_name.clone()), ("active", u.enabled.to_string())]))
            .await?;
        tx.commit().await?;
        Ok(u)
    }

    /// Deletes a provisioned user with their group and account memberships; `expected` as in
    /// [`Services::replace_provisioned_user`].
    pub async fn delete_provisioned_user(&self, p: &Provisioner, id: &str, expected: Option<Timestamp>) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let u = find(tx.as_mut(), p.tenant_id, id).await?;
        check_version(expected, u.updated_at)?;
        // Accounts the user was a direct member of lose them too; each account's log says so.
        let accounts = tx.list_accounts_for_user(p.tenant_id, u.id, &[]).await?;
        tx.delete_user_sessions(u.id, None).await?;
        match tx.delete_user(p.tenant_id, u.id).await {
            Err(StoreError::MissingReference) => {
                return Err(Error::new(ErrorCode::ProtectedObject).with_message("This user owns accounts or subscriptions and cannot be deleted."));
            }
            r => r?,
        };
        let user_name = u.provisioning.map(|p| p.user_name).unwrap_or_default();
        tx.insert_audit(&self.provisioning_audit(p, "user.provision.delete", "user", u.id, vec![("userName", user_name.clone()), ("userPrincipalName", u.upn.to_string())]))
            .await?;
        for a in accounts {
            let e = self.provisioning_audit(p, "account.member.remove", "user", u.id, vec![("userPrincipalName", u.upn.to_string()), ("reason", "deleted by SCIM".into())]);
            tx.insert_audit(&e.in_account(a.id)).await?;
        }
        tx.commit().await.map_err(Error::from)
    }
}
