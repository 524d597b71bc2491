//! First start: the built-in personal-accounts tenant and the owner.

use super::users::{OWNER_META_KEY, insert_user_checked};
use super::{Services, details};
use crate::domain::{DisplayName, DomainPrefix, Password, TenantDomain, Upn};
use crate::error::Error;
use crate::ids::{PERSONAL_ACCOUNTS_TENANT, UserId};
use crate::model::{Tenant, User};
use crate::ports::StoreError;
use crate::secret::Secret;

/// The owner's sign-in name and one-time password. Returned only by the start that created
/// the owner; the password is stored only as a hash and must be changed at first sign-in.
#[derive(Debug, Clone)]
pub struct OwnerCredentials {
    pub tenant: Tenant,
    pub user_principal_name: String,
    pub password: Secret,
}

impl Services {
    /// The owner as the actor of admin commands that work on the database directly
    /// (`atrium quickstart`): whoever can read the data dir or the database URL is trusted
    /// like the owner, and the audit log names the owner.
    pub async fn local_admin_actor(&self) -> Result<crate::actor::Actor, Error> {
        let mut tx = self.read().await?;
        let id = tx
            .get_meta(OWNER_META_KEY)
            .await?
            .ok_or_else(|| Error::new(crate::error::ErrorCode::NotFound).with_message("No owner yet: start `atrium serve` once first."))?;
        Ok(crate::actor::Actor {
            user_id: UserId::parse(&id, "owner")?,
            tenant_id: PERSONAL_ACCOUNTS_TENANT,
            session_id: crate::ids::SessionId::from_uuid(uuid::Uuid::nil()),
            global_admin: true,
            must_change_password: false,
            application: None,
            access: crate::actor::Access::Direct,
        })
    }

    /// Creates the personal-accounts tenant and the owner if they do not exist yet, in one
    /// transaction. Returns the credentials only when it created the owner, so they are shown
    /// once and never again; concurrent starts on one database create one owner.
    pub async fn bootstrap(&self) -> Result<Option<OwnerCredentials>, Error> {
        {
            let mut tx = self.read().await?;
            if tx.get_meta(OWNER_META_KEY).await?.is_some() {
                return Ok(None);
            }
        }
        let now = self.clock.now();
        let prefix = DomainPrefix::parse("personal")?;
        let tenant = Tenant {
            id: PERSONAL_ACCOUNTS_TENANT,
            display_name: DisplayName::parse("Personal accounts", "displayName")?,
            domain: TenantDomain::new(&prefix, &self.policy.domain_suffix),
            contact_email: None,
            directory_sync: false,
            created_at: now,
            updated_at: now,
        };
        let password = Password::generate(self.rng.as_ref());
        let hash = self.hasher.hash(password.secret()).await?;
        let owner = User {
            must_change_password: true,
            global_admin: true,
            ..User::new_member(
                UserId::random(self.rng.as_ref()),
                tenant.id,
                Upn::parse(&format!("owner@{}", tenant.domain))?,
                DisplayName::parse("Owner", "displayName")?,
                hash,
                now,
            )
        };
        let mut tx = self.write().await?;
        if tx.get_meta(OWNER_META_KEY).await?.is_some() {
            return Ok(None);
        }
        if tx.get_tenant(tenant.id).await?.is_none() {
            match tx.insert_tenant(&tenant).await {
                // Another node won the race.
                Err(StoreError::Conflict) => return Ok(None),
                r => r?,
            }
        }
        insert_user_checked(tx.as_mut(), &owner).await?;
        tx.put_meta(OWNER_META_KEY, &owner.id.to_string()).await?;
        tx.insert_audit(&self.audit(None, "owner.bootstrap", "user", owner.id, Some(tenant.id), details(&[("userPrincipalName", owner.upn.as_str())])))
            .await?;
        match tx.commit().await {
            Err(StoreError::Conflict) => return Ok(None),
            r => r?,
        }
        Ok(Some(OwnerCredentials { tenant, user_principal_name: owner.upn.to_string(), password: password.secret().clone() }))
    }
}
