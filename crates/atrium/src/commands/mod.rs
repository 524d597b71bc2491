//! Admin commands against a running server. Each one is a thin REST call: every rule is
//! enforced by the server's services, the same as for every other interface.

pub mod account;
pub mod application;
pub mod auth;
mod grant;
pub mod group;
pub mod invitation;
pub mod mfa;
pub mod provisioning;
pub mod resolve;
pub mod sign_ins;
pub mod subscription;
pub mod tenant;
pub mod user;

use crate::client::{Client, seg};

/// Resolves a tenant given as a GUID or a domain to its GUID.
pub async fn tenant_id(c: &Client, reference: &str) -> anyhow::Result<String> {
    resolve::tenant(c, reference).await
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
