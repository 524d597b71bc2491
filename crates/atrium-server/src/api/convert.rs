//! Domain → wire conversions. Secrets (password hashes) have no wire field to go to.

use atrium_api_types as api;
use atrium_core::audit::{AuditDetail, AuditEntry, AuditEvent};
use atrium_core::model::{AppKey, Application, Group, Tenant, User};
use atrium_core::time::Timestamp;
use atrium_core::page::Page;

/// The `source` of an object its tenant's source directory provisions through SCIM.
const SCIM_SOURCE: &str = "scim";

pub fn tenant(t: &Tenant) -> api::Tenant {
    api::Tenant {
        id: t.id.as_uuid(),
        display_name: t.display_name.to_string(),
        domain: t.domain.to_string(),
        contact_email: t.contact_email.as_ref().map(ToString::to_string),
        directory_sync: t.directory_sync,
        created_at: t.created_at.to_rfc3339(),
        updated_at: t.updated_at.to_rfc3339(),
    }
}

pub fn user(u: &User) -> api::User {
    api::User {
        id: u.id.as_uuid(),
        tenant_id: u.tenant_id.as_uuid(),
        user_principal_name: u.upn.to_string(),
        display_name: u.display_name.to_string(),
        given_name: u.given_name.as_ref().map(ToString::to_string),
        surname: u.surname.as_ref().map(ToString::to_string),
        mail: u.mail.as_ref().map(ToString::to_string),
        user_type: u.user_type.as_str().to_owned(),
        enabled: u.enabled,
        must_change_password: u.must_change_password,
        global_admin: u.global_admin,
        recovery_email: u.recovery_email.as_ref().map(ToString::to_string),
        last_sign_in: u.last_sign_in.map(|t| t.to_rfc3339()),
        source: u.provisioning.as_ref().map(|_| SCIM_SOURCE.to_owned()),
        provisioning: u.provisioning.as_ref().map(|p| api::UserProvisioning { user_name: p.user_name.clone(), external_id: p.external_id.clone() }),
        created_at: u.created_at.to_rfc3339(),
        updated_at: u.updated_at.to_rfc3339(),
    }
}

pub fn group(g: &Group) -> api::Group {
    api::Group {
        id: g.id.as_uuid(),
        tenant_id: g.tenant_id.as_uuid(),
        display_name: g.name.to_string(),
        description: g.description.as_ref().map(ToString::to_string),
        source: g.provisioning.as_ref().map(|_| SCIM_SOURCE.to_owned()),
        external_id: g.provisioning.as_ref().and_then(|p| p.external_id.clone()),
        created_at: g.created_at.to_rfc3339(),
        updated_at: g.updated_at.to_rfc3339(),
    }
}

fn audit_event(e: &AuditEvent) -> api::AuditEvent {
    api::AuditEvent {
        id: e.id.as_uuid(),
        at: e.at.to_rfc3339(),
        actor_user_id: e.actor_user_id.map(|i| i.as_uuid()),
        actor_tenant_id: e.actor_tenant_id.map(|i| i.as_uuid()),
        action: e.action.clone(),
        target_type: e.target_type.clone(),
        target_id: e.target_id.clone(),
        tenant_id: e.tenant_id.map(|i| i.as_uuid()),
        actor_name: None,
        target_name: None,
        action_text: None,
        details: api::serde_json_value::Value::default(),
    }
}

/// An audit entry: the event with names, the action in words and grants as objects.
pub fn audit(e: &AuditEntry) -> api::AuditEvent {
    use api::serde_json_value::{Detail, GrantWords, PermissionWords, Value};
    let details = e
        .details
        .iter()
        .map(|(k, v)| {
            let d = match v {
                AuditDetail::Text(t) => Detail::Text(t.clone()),
                AuditDetail::Grant { roles, permissions } => Detail::Grant(GrantWords {
                    roles: roles.clone(),
                    permissions: permissions
                        .iter()
                        .map(|p| PermissionWords { permission: p.permission.clone(), access: p.access.clone(), products: p.products.clone() })
                        .collect(),
                }),
            };
            (k.clone(), d)
        })
        .collect();
    api::AuditEvent {
        actor_name: e.actor_name.clone(),
        target_name: e.target_name.clone(),
        action_text: Some(e.action_text.clone()),
        details: Value(details),
        ..audit_event(&e.event)
    }
}

pub fn page<T, U>(p: Page<T>, f: impl Fn(&T) -> U) -> api::Page<U> {
    api::Page { items: p.items.iter().map(f).collect(), next_cursor: p.next_cursor }
}

pub fn application(a: &Application) -> api::Application {
    api::Application {
        id: a.id.as_uuid(),
        app_id: a.client_id.as_uuid(),
        tenant_id: a.tenant_id.as_uuid(),
        display_name: a.display_name.to_string(),
        reply_urls: a.reply_urls.iter().map(ToString::to_string).collect(),
        app_id_uri: a.app_id_uri.as_ref().map(ToString::to_string),
        public_client: a.public_client,
        service_principal_id: a.service_principal_id.as_uuid(),
        created_at: a.created_at.to_rfc3339(),
        updated_at: a.updated_at.to_rfc3339(),
    }
}

/// A key for listing: never the value or its hash.
pub fn key(k: &AppKey, now: Timestamp) -> api::Key {
    api::Key {
        key_id: k.id.as_uuid(),
        display_name: k.display_name.clone(),
        hint: k.hint.clone(),
        created_at: k.created_at.to_rfc3339(),
        expires_at: k.expires_at.to_rfc3339(),
        expired: k.expires_at <= now,
    }
}
