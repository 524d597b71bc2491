//! The Microsoft identity platform: the token endpoint's grants and the authorize step, with
//! Entra's claims and AADSTS errors (see `shared/specs/entra-compat.md`). The HTTP adapter
//! only parses forms and renders these results.

mod errors;
mod keys;
mod request;
mod scopes;
mod token;

pub use errors::OAuthError;
pub use request::{AuthorizeRequest, ClientAuth, TokenGrant, TokenRequest};
pub use scopes::{ACCOUNT_API_RESOURCES, ARM_RESOURCES, DelegatedScopes, GRAPH_APP_ID, GRAPH_RESOURCE, Resource, parse_delegated};
pub use token::{AuthorizeError, TokenResponse};

use crate::model::Tenant;

/// Where the identity endpoints of a request live: the issuer base URL seen by the client
/// (`https://host:port`), and the tenant from the path.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub tenant: Tenant,
    /// The client's network address (the TCP peer), for throttling by address.
    pub source: Option<String>,
}

impl Endpoint {
    pub fn issuer_v2(&self) -> String {
        format!("{}/{}/v2.0", self.base_url, self.tenant.id)
    }

    pub fn issuer_v1(&self) -> String {
        format!("{}/{}/", self.base_url, self.tenant.id)
    }
}
