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

/// One permission of a grant, in words: "Packages", "Read/write", and the products it covers
/// (empty for an account-level permission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionWords {
    pub permission: String,
    pub access: String,
    pub products: Vec<String>,
}

/// A value of an audit event's details, as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditDetail {
    Text(String),
    /// Roles and custom permissions by their names, e.g. roles `["Developer"]`.
    Grant { roles: Vec<String>, permissions: Vec<PermissionWords> },
}

impl std::fmt::Display for AuditDetail {
    /// "Developer, Marketer; Packages: Read/write (Game One)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditDetail::Text(t) => f.write_str(t),
            AuditDetail::Grant { roles, permissions } => {
                let mut parts: Vec<String> = Vec::new();
                if !roles.is_empty() {
                    parts.push(roles.join(", "));
                }
                for p in permissions {
                    let scope = if p.products.is_empty() { String::new() } else { format!(" ({})", p.products.join(", ")) };
                    parts.push(format!("{}: {}{scope}", p.permission, p.access));
                }
                if parts.is_empty() { f.write_str("No access") } else { f.write_str(&parts.join("; ")) }
            }
        }
    }
}

/// An audit event as people read it: who and what by name, the action and the details in words.
/// The ids stay in `event` for programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub event: AuditEvent,
    /// "Ada Admin (admin@contoso.example)"; `None` for the system.
    pub actor_name: Option<String>,
    /// The target's name (a person, group, application, tenant domain, product…), if known.
    pub target_name: Option<String>,
    /// What happened, e.g. "Added to the account".
    pub action_text: String,
    /// The details object, key by key, in stored order.
    pub details: Vec<(String, AuditDetail)>,
}

/// The action of an audit event in words ("account.member.add" → "Added to the account").
pub fn action_text(action: &str) -> String {
    let known = match action {
        "account.create" => "Opened the account",
        "account.tenant.associate" => "Associated a tenant",
        "account.tenant.create" => "Created a new tenant",
        "account.tenant.remove" => "Removed a tenant",
        "account.member.add" => "Added to the account",
        "account.member.create" => "Created and added to the account",
        "account.member.update" => "Changed roles and permissions",
        "account.member.remove" => "Removed from the account",
        "account.member.delete_from_organization" => "Deleted from the organization",
        "account.member.reset_password" => "Reset the password",
        "account.invitation.create" => "Invited as a guest",
        "account.invitation.resend" => "Resent the invitation",
        "account.invitation.revoke" => "Revoked the invitation",
        "account.product.create" => "Created a product",
        "account.product.delete" => "Deleted a product",
        "invitation.create" => "Invited as a guest",
        "invitation.redeem" => "Accepted the invitation",
        "user.create" => "Created the user",
        "user.update" => "Changed the user",
        "user.delete" => "Deleted the user",
        "user.password.change" => "Changed the password",
        "user.sign_in" => "Signed in",
        "user.sign_in.failed" => "Failed to sign in",
        "user.password.change.failed" => "Gave a wrong current password to change the password",
        "user.sign_out" => "Signed out",
        "group.create" => "Created the group",
        "group.update" => "Changed the group",
        "group.delete" => "Deleted the group",
        "group.member.add" => "Added a group member",
        "group.member.remove" => "Removed a group member",
        "application.create" => "Created the application",
        "application.update" => "Changed the application",
        "application.delete" => "Deleted the application",
        "application.key.add" => "Added a key",
        "application.key.remove" => "Removed a key",
        "tenant.create" => "Created the tenant",
        "tenant.update" => "Changed the tenant",
        "tenant.delete" => "Deleted the tenant",
        "provisioning.token.create" => "Created a provisioning token",
        "provisioning.token.revoke" => "Revoked a provisioning token",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // Unlisted actions still read as words: "subscription.coadmin.add" → "Subscription coadmin add".
    let words = action.replace(['.', '_'], " ");
    let mut c = words.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}
