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
    /// The account the change concerns, if any.
    pub account_id: Option<crate::ids::AccountId>,
    /// A short JSON object with what changed. Never contains secrets.
    pub details: String,
}

impl AuditEvent {
    /// Marks the event as concerning `account` (its audit log shows it).
    pub fn in_account(mut self, account: crate::ids::AccountId) -> Self {
        self.account_id = Some(account);
        self
    }

    pub fn actor_fields(actor: Option<&Actor>) -> (Option<UserId>, Option<TenantId>) {
        (actor.map(|a| a.user_id), actor.map(|a| a.tenant_id))
    }
}

/// Which audit events to list: every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant_id: Option<TenantId>,
    pub account_id: Option<crate::ids::AccountId>,
    pub actor_user_id: Option<UserId>,
    pub target_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: u32,
}
