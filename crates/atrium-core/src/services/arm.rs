//! Azure Resource Manager, as much as the Azure CLI and azure-mgmt-resource need to sign in and
//! pick a subscription: who the bearer of an ARM token is, the tenants they can use, and the
//! subscriptions (seed 003) they see.
//!
//! Visibility, as in Azure: a subscription is listed when its directory is the token's tenant
//! and the caller holds access to it. For a person that is owning or co-administering it; for an
//! application (a service principal) it is being one of its application co-administrators
//! (Azure would use a role assignment; seed 003's access model is the co-administrator). A
//! subscription the caller cannot see is "not found", so ids reveal nothing.

use super::Services;
use super::identity::ARM_RESOURCES;
use crate::error::{Error, ErrorCode};
use crate::ids::{ClientId, SubscriptionId, TenantId, UserId};
use crate::model::{Application, Subscription, Tenant, User};
use crate::ports::Tx;

/// The bearer of a valid ARM token.
#[derive(Debug, Clone)]
pub enum ArmCaller {
    User { tenant: Tenant, user: Box<User> },
    Application { tenant: Tenant, application: Application },
}

impl ArmCaller {
    pub fn tenant(&self) -> &Tenant {
        match self {
            ArmCaller::User { tenant, .. } | ArmCaller::Application { tenant, .. } => tenant,
        }
    }
}

/// A subscription as ARM shows it, with the directory that it trusts.
#[derive(Debug, Clone)]
pub struct ArmSubscription {
    pub subscription: Subscription,
    pub directory: Tenant,
}

/// Why an ARM token is refused. `target` is `aud` when the token is ours but for another
/// resource (ARM's `InvalidAuthenticationTokenAudience`).
fn invalid_token(why: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated).with_message(format!("The access token is invalid: {why}."))
}

/// `SubscriptionNotFound`, naming the id as ARM does.
pub fn subscription_not_found(id: &str) -> Error {
    Error::new(ErrorCode::SubscriptionNotFound).with_message(format!("The subscription '{id}' could not be found.")).with_target("subscriptionId")
}

impl Services {
    /// Checks an ARM access token (signature, expiry, audience) and finds its subject: an enabled
    /// user or an existing application of the token's tenant.
    pub async fn arm_caller(&self, jwt: &str) -> Result<ArmCaller, Error> {
        let claims = self.signer.verify(jwt).ok_or_else(|| invalid_token("the signature does not verify"))?;
        let now = self.clock.now().as_millis() / 1000;
        if claims["exp"].as_i64().is_none_or(|e| e <= now) {
            return Err(invalid_token("the token has expired"));
        }
        let aud = claims["aud"].as_str().unwrap_or("");
        if !ARM_RESOURCES.contains(&aud) {
            return Err(Error::new(ErrorCode::Unauthenticated)
                .with_message(format!("The access token has an invalid audience '{aud}': ARM accepts tokens for {}.", ARM_RESOURCES.join(" or ")))
                .with_target("aud"));
        }
        let tid = TenantId::parse(claims["tid"].as_str().unwrap_or(""), "tid").map_err(|_| invalid_token("it names no tenant"))?;
        let mut tx = self.read().await?;
        let tenant = tx.get_tenant(tid).await?.ok_or_else(|| invalid_token("its tenant no longer exists"))?;
        if claims["idtyp"] == "app" {
            let client = claims["appid"].as_str().or(claims["azp"].as_str()).unwrap_or("");
            let client = ClientId::parse(client, "appid").map_err(|_| invalid_token("it names no application"))?;
            let application = tx.find_application_by_client_id(tid, client).await?.ok_or_else(|| invalid_token("its application no longer exists"))?;
            return Ok(ArmCaller::Application { tenant, application });
        }
        let oid = UserId::parse(claims["oid"].as_str().unwrap_or(""), "oid").map_err(|_| invalid_token("it names no user"))?;
        let user = tx.get_user(tid, oid).await?.ok_or_else(|| invalid_token("its user no longer exists"))?;
        if !user.enabled {
            return Err(invalid_token("its user is disabled"));
        }
        Ok(ArmCaller::User { tenant, user: Box::new(user) })
    }

    /// `GET /tenants`: the tenant the caller signed in to (an identity of Atrium lives in one).
    pub fn arm_tenants(&self, caller: &ArmCaller) -> Vec<Tenant> {
        vec![caller.tenant().clone()]
    }

    async fn arm_visible(&self, tx: &mut dyn Tx, caller: &ArmCaller) -> Result<Vec<Subscription>, Error> {
        let tid = caller.tenant().id;
        let list = match caller {
            ArmCaller::User { user, .. } => tx.list_subscriptions_for_user(tid, user.id).await?,
            ArmCaller::Application { application, .. } => tx.list_subscriptions_for_app(tid, application.id).await?,
        };
        // An owner signs in through the personal-accounts tenant: their subscriptions that trust
        // another directory belong to that directory's view, not this token's.
        Ok(list.into_iter().filter(|s| s.directory_tenant_id == tid).collect())
    }

    /// `GET /subscriptions`: the caller's subscriptions in the token's tenant, enabled or not.
    pub async fn arm_subscriptions(&self, caller: &ArmCaller) -> Result<Vec<ArmSubscription>, Error> {
        let mut tx = self.read().await?;
        let list = self.arm_visible(tx.as_mut(), caller).await?;
        let directory = caller.tenant().clone();
        Ok(list.into_iter().map(|subscription| ArmSubscription { subscription, directory: directory.clone() }).collect())
    }

    /// `GET /subscriptions/{id}`: one of them, or `SubscriptionNotFound` (also for one that
    /// exists but the caller does not see).
    pub async fn arm_subscription(&self, caller: &ArmCaller, id: &str) -> Result<ArmSubscription, Error> {
        let parsed = SubscriptionId::parse(id, "subscriptionId").map_err(|_| {
            Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("The provided subscription identifier '{id}' is malformed or invalid."))
                .with_target("subscriptionId")
        })?;
        let mut tx = self.read().await?;
        let subscription = self.arm_visible(tx.as_mut(), caller).await?.into_iter().find(|s| s.id == parsed).ok_or_else(|| subscription_not_found(id))?;
        Ok(ArmSubscription { subscription, directory: caller.tenant().clone() })
    }
}
