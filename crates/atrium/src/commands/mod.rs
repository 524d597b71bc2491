//! Admin commands against a running server. Each one is a thin REST call: every rule is
//! enforced by the server's services, the same as for every other interface.

pub mod account;
pub mod auth;
mod grant;
pub mod group;
pub mod invitation;
pub mod provisioning;
pub mod subscription;
pub mod tenant;
pub mod user;

use crate::client::{Client, seg};
use anyhow::bail;
use atrium_api_types::{Page, Tenant};

/// Resolves a tenant given as a GUID or a domain to its GUID.
pub async fn tenant_id(c: &Client, reference: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(reference).is_ok() {
        return Ok(reference.to_owned());
    }
    let wanted = reference.trim().to_ascii_lowercase();
    let page: Page<Tenant> = c.get(&format!("/api/v1/tenants?search={}&limit=200", seg(&wanted))).await?;
    match page.items.into_iter().find(|t| t.domain == wanted) {
        Some(t) => Ok(t.id.to_string()),
        None => bail!("no tenant with the domain '{reference}' is visible to you"),
    }
}

/// Appends `search`, `cursor` and `limit` query parameters.
pub fn list_query(search: &Option<String>, cursor: &Option<String>, limit: Option<u32>) -> String {
    let mut q = Vec::new();
    if let Some(s) = search {
        q.push(format!("search={}", seg(s)));
    }
    if let Some(c) = cursor {
        q.push(format!("cursor={}", seg(c)));
    }
    if let Some(l) = limit {
        q.push(format!("limit={l}"));
    }
    if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
}
