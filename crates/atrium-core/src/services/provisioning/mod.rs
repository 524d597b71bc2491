//! Inbound provisioning (SCIM 2.0): a tenant's source of authority creates, replaces and
//! deletes its users and groups. The SCIM adapter turns resources and PATCH operations into the
//! whole state a source asserts ([`ProvisionUser`], [`ProvisionGroup`]); the rules live here.
//!
//! A provisioned object is owned by its source: other interfaces refuse to change its synced
//! attributes ([`source_owned`]), while account roles on it stay theirs (R9).

mod groups;
mod tokens;
mod users;

pub use groups::ProvisionGroup;
pub use tokens::{CreatedProvisioningToken, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, NewProvisioningToken};
pub use users::{ProvisionUser, upn_for_user_name};

use crate::audit::AuditEvent;
use crate::error::{Error, ErrorCode};
use crate::ids::{ProvisioningTokenId, TenantId};
use crate::services::Services;
use crate::time::Timestamp;

/// The authenticated provisioning client: one token of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioner {
    pub token_id: ProvisioningTokenId,
    pub tenant_id: TenantId,
    /// The token's name, which the audit log shows as the actor.
    pub name: String,
}

/// A page of provisioned objects with the number of all matches (SCIM's `totalResults`).
#[derive(Debug, Clone)]
pub struct CountedPage<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// The refusal other interfaces give for a change the object's source owns.
pub(crate) fn source_owned(what: &str) -> Error {
    Error::new(ErrorCode::SourceOfAuthority).with_message(format!(
        "This {what} is provisioned by SCIM from the tenant's source directory: change it there and it arrives through SCIM. \
         Account roles and permissions on it can still be changed here."
    ))
}

/// `If-Match` on a replace: the version the client last saw.
fn check_version(expected: Option<Timestamp>, current: Timestamp) -> Result<(), Error> {
    match expected {
        Some(v) if v != current => Err(Error::new(ErrorCode::ConcurrentChange)
            .with_message("The resource changed since this version was read (If-Match does not match); read it again.")
            .with_target("If-Match")),
        _ => Ok(()),
    }
}

impl Services {
    /// An audit event whose actor is a provisioning token (named in the details).
    fn provisioning_audit(&self, p: &Provisioner, action: &str, target_type: &str, target_id: impl ToString, mut pairs: Vec<(&str, String)>) -> AuditEvent {
        let token = p.token_id.to_string();
        pairs.insert(0, ("actor", format!("SCIM: {}", p.name)));
        pairs.insert(1, ("provisioningTokenId", token));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // No user acts; the token's tenant is the actor's.
        AuditEvent { actor_tenant_id: Some(p.tenant_id), ..self.audit(None, action, target_type, target_id, Some(p.tenant_id), crate::services::details(&refs)) }
    }
}
