//! Provisioning tokens: what a tenant's SCIM client (Entra's provisioning service, Okta, an HR
//! system) presents. Creating the first one turns the tenant into a directory-synced one (R5).

use super::Provisioner;
use crate::actor::Actor;
use crate::error::{Error, ErrorCode};
use crate::ids::{PERSONAL_ACCOUNTS_TENANT, ProvisioningTokenId, TenantId};
use crate::model::ProvisioningToken;
use crate::secret::{Secret, constant_time_eq};
use crate::services::{Services, authz, details};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const TOKEN_PREFIX: &str = "atscim_";
/// A token lasts a year unless asked otherwise, and at most two.
pub const DEFAULT_TOKEN_DAYS: u32 = 365;
pub const MAX_TOKEN_DAYS: u32 = 730;

#[derive(Debug, Clone, Default)]
pub struct NewProvisioningToken {
    /// Names the client in lists and in the audit log, e.g. "Entra provisioning".
    pub name: String,
    /// 1 to 730 days; a year when absent.
    pub valid_days: Option<u32>,
}

/// A new token with its value, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedProvisioningToken {
    pub token: ProvisioningToken,
    pub value: Secret,
}

impl Services {
    /// Creates a provisioning token for `tenant_id` and marks the tenant directory-synced: from
    /// now on its users and groups arrive through SCIM (R5).
    pub async fn create_provisioning_token(&self, actor: &Actor, tenant_id: TenantId, input: NewProvisioningToken) -> Result<CreatedProvisioningToken, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        if tenant_id == PERSONAL_ACCOUNTS_TENANT {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("The personal-accounts tenant cannot be provisioned by SCIM."));
        }
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::new(ErrorCode::InvalidName).with_message("'name' must be 1 to 100 characters without control characters.").with_target("name"));
        }
        let days = input.valid_days.unwrap_or(DEFAULT_TOKEN_DAYS);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(Error::new(ErrorCode::InvalidValidity)
                .with_message(format!("A provisioning token is valid for 1 to {MAX_TOKEN_DAYS} days."))
                .with_target("validDays"));
        }
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw);
        let value = Secret::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)));
        let now = self.clock.now();
        let token = ProvisioningToken {
            id: ProvisioningTokenId::random(self.rng.as_ref()),
            tenant_id,
            name: name.to_owned(),
            token_hash: value.sha256(),
            created_by: actor.application.is_none().then_some(actor.user_id),
            created_at: now,
            expires_at: now.plus_seconds(i64::from(days) * 86_400),
        };
        let mut tx = self.write().await?;
        let mut tenant = self.require_tenant(tx.as_mut(), tenant_id).await?;
        tx.insert_provisioning_token(&token).await?;
        let turned_on = !tenant.directory_sync;
        if turned_on {
            tenant.directory_sync = true;
            tenant.updated_at = now;
            tx.update_tenant(&tenant).await?;
        }
        tx.insert_audit(&self.audit(
            Some(actor),
            "provisioning.token.create",
            "provisioning_token",
            token.id,
            Some(tenant_id),
            details(&[("name", &token.name), ("validDays", &days.to_string()), ("directorySyncTurnedOn", &turned_on.to_string())]),
        ))
        .await?;
        tx.commit().await?;
        Ok(CreatedProvisioningToken { token, value })
    }

    /// Whether `actor` may manage `tenant_id`'s provisioning tokens, for interfaces that offer
    /// the action before it is tried (the calls themselves check again).
    pub fn may_manage_provisioning(&self, actor: &Actor, tenant_id: TenantId) -> bool {
        tenant_id != PERSONAL_ACCOUNTS_TENANT && authz::tenant_admin(actor, tenant_id).is_ok()
    }

    pub async fn list_provisioning_tokens(&self, actor: &Actor, tenant_id: TenantId) -> Result<Vec<ProvisioningToken>, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        Ok(tx.list_provisioning_tokens(tenant_id).await?)
    }

    /// Revokes a token at once. The tenant stays directory-synced: its objects still belong to
    /// their source (turn directory sync off on the tenant to take them over).
    pub async fn revoke_provisioning_token(&self, actor: &Actor, tenant_id: TenantId, id: ProvisioningTokenId) -> Result<(), Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let mut tx = self.write().await?;
        let token = tx
            .list_provisioning_tokens(tenant_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| Error::new(ErrorCode::ProvisioningTokenNotFound).with_target("tokenId"))?;
        tx.delete_provisioning_token(tenant_id, id).await?;
        tx.insert_audit(&self.audit(Some(actor), "provisioning.token.revoke", "provisioning_token", id, Some(tenant_id), details(&[("name", &token.name)])))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// The provisioning client behind a bearer token sent to `/scim/v2`.
    pub async fn authenticate_provisioner(&self, value: &Secret) -> Result<Provisioner, Error> {
        let refused = || Error::new(ErrorCode::Unauthenticated).with_message("The provisioning token is unknown, revoked or expired.");
        if !value.expose().starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let hash = value.sha256();
        let mut tx = self.read().await?;
        let token = tx.find_provisioning_token(&hash).await?.ok_or_else(refused)?;
        // The lookup is by hash; compare again in constant time so that no timing tells how
        // much of a guessed value matched.
        if !constant_time_eq(&token.token_hash, &hash) || token.expires_at <= self.clock.now() {
            return Err(refused());
        }
        Ok(Provisioner { token_id: token.id, tenant_id: token.tenant_id, name: token.name })
    }
}
