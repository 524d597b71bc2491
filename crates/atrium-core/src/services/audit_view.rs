//! Audit events as people read them (Partner Center's audit log shows names, not ids): the
//! actor and target by name, the action in words, and grants as roles and permissions.

use super::Services;
use crate::access::{Grant, Level, PermissionScope, Program, ProductScope};
use crate::audit::{AuditDetail, AuditEntry, AuditEvent, PermissionWords, action_text};
use crate::error::Error;
use crate::ids::{AccountId, ApplicationId, GroupId, TenantId, UserId};
use crate::model::Product;
use crate::ports::Tx;
use std::collections::HashMap;

fn level_words(l: Level) -> &'static str {
    match l {
        Level::ReadOnly => "Read only",
        Level::ReadWrite => "Read/write",
    }
}

/// A stored grant in words; `None` if it does not parse (the raw text is shown then).
fn grant_words(json: &str, program: Program, products: &[Product]) -> Option<AuditDetail> {
    let g = Grant::from_json(json).ok()?;
    let roles = g.roles.iter().map(|r| r.display_name(program).to_owned()).collect();
    let permissions = g
        .permissions
        .iter()
        .map(|p| PermissionWords {
            permission: p.permission.name.to_owned(),
            access: level_words(p.level).to_owned(),
            products: match (&p.products, p.permission.scope) {
                (_, PermissionScope::Account) => Vec::new(),
                (ProductScope::All, _) => vec!["All products".to_owned()],
                (ProductScope::Products(ids), _) => ids
                    .iter()
                    .map(|id| products.iter().find(|x| x.id == *id).map(|x| x.name.to_string()).unwrap_or_else(|| format!("deleted product {id}")))
                    .collect(),
            },
        })
        .collect();
    Some(AuditDetail::Grant { roles, permissions })
}

/// The flat JSON object of stored details, key by key (grants in words).
fn detail_words(details: &str, program: Program, products: &[Product]) -> Vec<(String, AuditDetail)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(details) else {
        return if details.trim().is_empty() || details.trim() == "{}" { Vec::new() } else { vec![("details".into(), AuditDetail::Text(details.to_owned()))] };
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let value = if k == "grant" { grant_words(&text, program, products).unwrap_or(AuditDetail::Text(text)) } else { AuditDetail::Text(text) };
            (k, value)
        })
        .collect()
}

/// Names looked up once per listing.
#[derive(Default)]
struct Names(HashMap<(&'static str, String), Option<String>>);

impl Services {
    /// Turns events into [`AuditEntry`]s. An event's account gives the role labels (Manager or
    /// Administrator) and the product names.
    pub(crate) async fn readable_audit(&self, tx: &mut dyn Tx, events: Vec<AuditEvent>) -> Result<Vec<AuditEntry>, Error> {
        let mut accounts: HashMap<AccountId, (Program, Vec<Product>)> = HashMap::new();
        let mut names = Names::default();
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            if let Some(a) = e.account_id
                && !accounts.contains_key(&a)
            {
                let program = tx.get_account(a).await?.map(|a| a.program).unwrap_or(Program::Developer);
                accounts.insert(a, (program, tx.list_products(a).await?));
            }
            let (program, products) = e.account_id.and_then(|a| accounts.get(&a)).map(|(p, x)| (*p, x.as_slice())).unwrap_or((Program::Developer, &[]));
            let details = detail_words(&e.details, program, products);
            let text = |key: &str| {
                details.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
                    AuditDetail::Text(t) if !t.is_empty() => Some(t.clone()),
                    _ => None,
                })
            };
            let actor_name = match (e.actor_user_id, e.actor_tenant_id) {
                (Some(u), Some(t)) => Some(names.principal(tx, t, u.as_uuid()).await?.unwrap_or_else(|| format!("Unknown user {u}"))),
                (Some(u), None) => Some(format!("Unknown user {u}")),
                _ => None,
            };
            let target_name = match names.target(tx, &e).await? {
                Some(n) => Some(n),
                // Deleted objects keep the name the event recorded.
                None => text("userPrincipalName").or_else(|| text("email")).or_else(|| text("domain")).or_else(|| text("name")),
            };
            out.push(AuditEntry { action_text: action_text(&e.action), actor_name, target_name, details, event: e });
        }
        Ok(out)
    }
}

impl Names {
    /// "Display Name (upn)" of a user, or an application's name, in `tenant`.
    async fn principal(&mut self, tx: &mut dyn Tx, tenant: TenantId, id: uuid::Uuid) -> Result<Option<String>, Error> {
        let key = ("principal", format!("{tenant}/{id}"));
        if let Some(n) = self.0.get(&key) {
            return Ok(n.clone());
        }
        let name = match tx.get_user(tenant, UserId::from_uuid(id)).await? {
            Some(u) => Some(format!("{} ({})", u.display_name, u.upn)),
            None => tx.get_application(tenant, ApplicationId::from_uuid(id)).await?.map(|a| format!("{} (application)", a.display_name)),
        };
        self.0.insert(key, name.clone());
        Ok(name)
    }

    async fn target(&mut self, tx: &mut dyn Tx, e: &AuditEvent) -> Result<Option<String>, Error> {
        let Ok(id) = uuid::Uuid::parse_str(&e.target_id) else { return Ok(None) };
        let key = ("target", format!("{}/{}", e.target_type, e.target_id));
        if let Some(n) = self.0.get(&key) {
            return Ok(n.clone());
        }
        let name = match (e.target_type.as_str(), e.tenant_id) {
            ("user", Some(t)) => match tx.get_user(t, UserId::from_uuid(id)).await? {
                Some(u) => Some(format!("{} ({})", u.display_name, u.upn)),
                None => None,
            },
            ("group", Some(t)) => tx.get_group(t, GroupId::from_uuid(id)).await?.map(|g| g.name.to_string()),
            ("application", Some(t)) => tx.get_application(t, ApplicationId::from_uuid(id)).await?.map(|a| a.display_name.to_string()),
            ("tenant", _) => tx.get_tenant(TenantId::from_uuid(id)).await?.map(|t| format!("{} ({})", t.display_name, t.domain)),
            ("account", _) => tx.get_account(AccountId::from_uuid(id)).await?.map(|a| a.name.to_string()),
            ("subscription", _) => tx.get_subscription(crate::ids::SubscriptionId::from_uuid(id)).await?.map(|x| x.name.to_string()),
            _ => None,
        };
        self.0.insert(key, name.clone());
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_read_as_roles_and_permissions() {
        let d = detail_words(r#"{"grant":"{\"roles\":[\"manager\",\"developer\"],\"permissions\":[{\"permission\":\"account_users\",\"level\":\"read_only\"}]}","email":"a@b.c"}"#, Program::Hardware, &[]);
        let grant = &d.iter().find(|(k, _)| k == "grant").unwrap().1;
        assert_eq!(grant.to_string(), "Administrator, Developer; Account users: Read only");
        assert_eq!(d.iter().find(|(k, _)| k == "email").unwrap().1, AuditDetail::Text("a@b.c".into()));
    }
}
