//! Audit events: one for every change, written in the same transaction as the change.

use crate::actor::Actor;
use crate::ids::{AuditEventId, TenantId, UserId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub at: Timestamp,
    pub actor_user_id: Option<UserId>,
    /// The tenant the actor signed in through.
    pub actor_tenant_id: Option<TenantId>,
    /// e.g. `user.create`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// The tenant the target lives in, if any.
    pub tenant_id: Option<TenantId>,
    /// A short JSON object with what changed. Never contains secrets.
    pub details: String,
}

impl AuditEvent {
    pub fn actor_fields(actor: Option<&Actor>) -> (Option<UserId>, Option<TenantId>) {
        (actor.map(|a| a.user_id), actor.map(|a| a.tenant_id))
    }
}
