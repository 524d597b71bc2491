//! The grant flags (`--role`, `--permission`) shared by the commands that give access: account
//! members and invitations. Both use it, so it lives in neither.

use anyhow::bail;
use serde_json::{Value, json};

/// `--role` and `--permission name=level[:p1,p2]` flags as a grant body.
pub(crate) fn grant(roles: &[String], permissions: &[String]) -> anyhow::Result<Value> {
    let mut perms = Vec::new();
    for p in permissions {
        let Some((name, rest)) = p.split_once('=') else { bail!("--permission {p}: use permission=level[:product,product]") };
        let (level, products) = match rest.split_once(':') {
            Some((l, ps)) => (l, Some(ps.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>())),
            None => (rest, None),
        };
        let mut v = json!({"permission": name.trim(), "level": level.trim()});
        if let Some(ps) = products {
            v["products"] = json!(ps);
        }
        perms.push(v);
    }
    Ok(json!({"roles": roles, "permissions": perms}))
}

/// The grant with its products named by name or GUID, as GUIDs for the server.
pub(crate) async fn resolved(c: &crate::client::Client, account: &str, roles: &[String], permissions: &[String]) -> anyhow::Result<Value> {
    let mut g = grant(roles, permissions)?;
    if let Some(perms) = g["permissions"].as_array_mut() {
        for p in perms {
            if let Some(products) = p["products"].as_array_mut() {
                for product in products {
                    let name = product.as_str().unwrap_or_default().to_owned();
                    *product = json!(super::resolve::product(c, account, &name).await?);
                }
            }
        }
    }
    Ok(g)
}
