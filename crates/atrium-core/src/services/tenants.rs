//! Tenants: create, read, update, delete, list and search.

use super::{Services, authz, details, opt};
use crate::actor::Actor;
use crate::domain::{DisplayName, DomainPrefix, Email, Password, PersonName, TenantDomain, Upn};
use crate::error::{Error, ErrorCode};
use crate::ids::{PERSONAL_ACCOUNTS_TENANT, TenantId, UserId};
use crate::access::{Grant, Role};
use crate::model::{Member, PrincipalRef, Tenant, User};
use crate::page::{ListQuery, Page};
use crate::ports::StoreError;
use crate::ports::store::MailOf;

/// Input of "create tenant". Strings are parsed here, so every adapter gets the same errors.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    pub display_name: String,
    pub domain_prefix: String,
    pub contact_email: Option<String>,
    pub directory_sync: bool,
    /// The tenant's first global administrator (R2), created in the same transaction.
    pub global_admin: Option<NewTenantAdmin>,
}

#[derive(Debug, Clone, Default)]
pub struct NewTenantAdmin {
    pub given_name: String,
    pub surname: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub display_name: Option<String>,
    /// `Some(None)` clears it.
    pub contact_email: Option<Option<String>>,
    pub directory_sync: Option<bool>,
}

impl Services {
    pub async fn create_tenant(&self, actor: &Actor, input: NewTenant) -> Result<(Tenant, Option<User>), Error> {
        authz::instance_admin(actor)?;
        self.create_tenant_inner(actor, input, None).await
    }

    /// Creates a tenant (and its first global admin); with `associate`, also associates it
    /// with that account in the same transaction (R2). Callers check who may do it.
    pub(crate) async fn create_tenant_inner(
        &self,
        actor: &Actor,
        input: NewTenant,
        associate: Option<crate::ids::AccountId>,
    ) -> Result<(Tenant, Option<User>), Error> {
        // Every field is checked before answering, so a form can show all its errors at once;
        // the first is the error itself and all of them are its details.
        let mut problems = Vec::new();
        let display_name = keep(&mut problems, DisplayName::parse(&input.display_name, "displayName"));
        let prefix = keep(&mut problems, DomainPrefix::parse(&input.domain_prefix));
        let contact_email = keep(&mut problems, opt(input.contact_email.as_deref(), |s| Email::parse(s, "contactEmail"))).flatten();
        let domain = prefix.map(|p| TenantDomain::new(&p, &self.policy.domain_suffix));
        let admin_input = match &input.global_admin {
            None => None,
            Some(a) => {
                let given = keep(&mut problems, PersonName::parse(&a.given_name, "globalAdmin.givenName"));
                let surname = keep(&mut problems, PersonName::parse(&a.surname, "globalAdmin.surname"));
                // The user name is checked against the domain, so only once the domain is valid.
                let upn = match &domain {
                    Some(d) => keep(
                        &mut problems,
                        Upn::parse_in_domain(&a.username, d.as_str()).map_err(|e| e.with_target("globalAdmin.username")).and_then(|u| {
                            if u.domain() == d.as_str() { Ok(u) } else { Err(Error::new(ErrorCode::UpnDomainNotVerified).with_target("globalAdmin.username")) }
                        }),
                    ),
                    None => None,
                };
                let password = keep(&mut problems, Password::parse(&a.password, "globalAdmin.password"));
                Some((given, surname, upn, password))
            }
        };
        if let Some(first) = problems.first() {
            return Err(if problems.len() == 1 { first.clone() } else { first.clone().with_details(problems) });
        }
        let (Some(display_name), Some(domain)) = (display_name, domain) else {
            return Err(Error::internal("tenant input parsed without errors but incompletely"));
        };
        let now = self.clock.now();
        let tenant = Tenant {
            id: TenantId::random(self.rng.as_ref()),
            display_name,
            domain,
            contact_email,
            directory_sync: input.directory_sync,
            created_at: now,
            updated_at: now,
        };
        // Hash the admin's password before the transaction: argon2 must not hold a write lock.
        let admin = match admin_input {
            None => None,
            Some((Some(given), Some(surname), Some(upn), Some(password))) => {
                let hash = self.hasher.hash(password.secret()).await?;
                Some(User {
                    given_name: Some(given.clone()),
                    surname: Some(surname.clone()),
                    global_admin: true,
                    ..User::new_member(
                        UserId::random(self.rng.as_ref()),
                        tenant.id,
                        upn,
                        DisplayName::parse(&format!("{given} {surname}"), "globalAdmin.givenName")?,
                        hash,
                        now,
                    )
                })
            }
            Some(_) => return Err(Error::internal("tenant admin parsed without errors but incompletely")),
        };
        let mut tx = self.write().await?;
        match tx.insert_tenant(&tenant).await {
            Err(StoreError::Conflict) => {
                return Err(Error::new(ErrorCode::TenantDomainTaken)
                    .with_message(format!("The domain '{}' is already taken.", tenant.domain))
                    .with_target("domainPrefix"));
            }
            r => r?,
        }
        tx.insert_audit(&self.audit(
            Some(actor),
            "tenant.create",
            "tenant",
            tenant.id,
            Some(tenant.id),
            details(&[("domain", tenant.domain.as_str())]),
        ))
        .await?;
        if let Some(account) = associate {
            tx.associate_tenant(account, tenant.id, now, Some(actor.user_id)).await?;
            let e = self.audit(Some(actor), "account.tenant.create", "tenant", tenant.id, Some(tenant.id), details(&[("domain", tenant.domain.as_str())]));
            tx.insert_audit(&e.in_account(account)).await?;
        }
        if let Some(u) = &admin {
            tx.insert_user(u).await?;
            tx.insert_audit(&self.audit(
                Some(actor),
                "user.create",
                "user",
                u.id,
                Some(tenant.id),
                details(&[("userPrincipalName", u.upn.as_str()), ("globalAdmin", "true")]),
            ))
            .await?;
            // Seed 000: the new global admin signs in next "to begin adding and managing account
            // users", which R4 allows a Manager signed in through the tenant: so a tenant created
            // from an account makes its first global admin a Manager of that account.
            if let Some(account) = associate {
                let grant = Grant { roles: vec![Role::Manager], permissions: Vec::new() }.to_json();
                let m = Member { account_id: account, tenant_id: tenant.id, principal: PrincipalRef::User(u.id), grant_json: grant.clone(), added_by: Some(actor.user_id), added_at: now, updated_at: now };
                tx.insert_member(&m).await?;
                let e = self.audit(Some(actor), "account.member.add", "user", u.id, Some(tenant.id), details(&[("grant", &grant)]));
                tx.insert_audit(&e.in_account(account)).await?;
            }
        }
        tx.commit().await?;
        Ok((tenant, admin))
    }

    /// Resolves a tenant given as a GUID or as its domain. Public knowledge (discovery
    /// documents reveal it too), so it needs no actor.
    pub async fn resolve_tenant(&self, reference: &str) -> Result<Tenant, Error> {
        let not_found = || {
            Error::new(ErrorCode::TenantNotFound)
                .with_message(format!("Tenant '{reference}' not found."))
                .with_target("tenant")
        };
        let mut tx = self.read().await?;
        let found = if let Ok(id) = TenantId::parse(reference, "tenant") {
            tx.get_tenant(id).await
        } else if let Ok(domain) = TenantDomain::parse(reference) {
            tx.find_tenant_by_domain(domain.as_str()).await
        } else {
            return Err(not_found());
        };
        found?.ok_or_else(not_found)
    }

    pub async fn get_tenant(&self, actor: &Actor, id: TenantId) -> Result<Tenant, Error> {
        authz::tenant_reader(actor, id)?;
        let mut tx = self.read().await?;
        tx.get_tenant(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::TenantNotFound).with_target("tenantId"))
    }

    /// Instance admins see every tenant; everybody else sees the tenant they signed in through.
    pub async fn list_tenants(&self, actor: &Actor, q: &ListQuery) -> Result<Page<Tenant>, Error> {
        authz::active(actor)?;
        authz::person(actor)?;
        let mut tx = self.read().await?;
        if !actor.is_instance_admin() {
            let own = tx.get_tenant(actor.tenant_id).await?;
            let rows: Vec<Tenant> = own.into_iter().filter(|t| tenant_matches(t, q)).collect();
            return Ok(Page::from_rows(rows, q.limit, |t| t.domain.as_str().to_owned()));
        }
        let rows = tx.list_tenants(&ListQuery { limit: q.limit + 1, ..q.clone() }).await?;
        Ok(Page::from_rows(rows, q.limit, |t| t.domain.as_str().to_owned()))
    }

    pub async fn update_tenant(&self, actor: &Actor, id: TenantId, patch: TenantPatch) -> Result<Tenant, Error> {
        authz::tenant_admin(actor, id)?;
        let display_name = opt(patch.display_name.as_deref(), |s| DisplayName::parse(s, "displayName"))?;
        if patch.display_name.is_some() && display_name.is_none() {
            return Err(Error::new(ErrorCode::InvalidName).with_target("displayName"));
        }
        let contact_email = match &patch.contact_email {
            None => None,
            Some(v) => Some(opt(v.as_deref(), |s| Email::parse(s, "contactEmail"))?),
        };
        if patch.directory_sync == Some(true) && id == PERSONAL_ACCOUNTS_TENANT {
            return Err(Error::new(ErrorCode::ProtectedObject)
                .with_message("The personal-accounts tenant cannot be synchronized from a directory.")
                .with_target("directorySync"));
        }
        let mut tx = self.write().await?;
        let mut t = tx
            .get_tenant(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::TenantNotFound).with_target("tenantId"))?;
        let mut changed = Vec::new();
        if let Some(v) = display_name {
            t.display_name = v;
            changed.push(("displayName", t.display_name.as_str().to_owned()));
        }
        if let Some(v) = contact_email {
            t.contact_email = v;
            changed.push(("contactEmail", t.contact_email.as_ref().map(|e| e.to_string()).unwrap_or_default()));
        }
        if let Some(v) = patch.directory_sync {
            t.directory_sync = v;
            changed.push(("directorySync", v.to_string()));
        }
        t.updated_at = self.clock.now();
        tx.update_tenant(&t).await?;
        let pairs: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tx.insert_audit(&self.audit(Some(actor), "tenant.update", "tenant", t.id, Some(t.id), details(&pairs)))
            .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Deletes a tenant with its users, groups and sessions. The personal-accounts tenant and
    /// the tenant the actor signed in through are protected.
    pub async fn delete_tenant(&self, actor: &Actor, id: TenantId) -> Result<(), Error> {
        authz::instance_admin(actor)?;
        if id == PERSONAL_ACCOUNTS_TENANT || id == actor.tenant_id {
            return Err(Error::new(ErrorCode::ProtectedObject)
                .with_message("The personal-accounts tenant and the tenant you are signed in through cannot be deleted.")
                .with_target("tenantId"));
        }
        let mut tx = self.write().await?;
        let t = tx
            .get_tenant(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::TenantNotFound).with_target("tenantId"))?;
        match tx.delete_tenant(id).await {
            // Seed 003: a directory that subscriptions trust stays until they change directory.
            Err(StoreError::MissingReference) => {
                return Err(Error::new(ErrorCode::ProtectedObject)
                    .with_message("Subscriptions trust this directory: change their directory first.")
                    .with_target("tenantId"));
            }
            r => r?,
        };
        tx.cancel_mail(MailOf::Tenant(id), self.clock.now(), "Cancelled: the tenant was deleted").await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "tenant.delete",
            "tenant",
            id,
            Some(id),
            details(&[("domain", t.domain.as_str())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }
}

fn tenant_matches(t: &Tenant, q: &ListQuery) -> bool {
    let after_ok = q.after.as_ref().is_none_or(|a| t.domain.as_str() > a.as_str());
    let prefix_ok = q.prefix.as_ref().is_none_or(|p| {
        t.domain.as_str().starts_with(p.as_str()) || t.display_name.as_str().to_lowercase().starts_with(p.as_str())
    });
    after_ok && prefix_ok
}

/// A field's parsed value, or `None` with its error kept for the answer that lists them all.
fn keep<T>(problems: &mut Vec<Error>, r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(e);
            None
        }
    }
}
