//! The typed requests of the token and authorize endpoints. The HTTP adapter parses the form or
//! query into these, so the grants never look parameters up by name.

use super::scopes::{DelegatedScopes, Resource};
use crate::secret::Secret;

/// A token request: the grant with its parameters, and how the client authenticates.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub grant: TokenGrant,
    pub client: ClientAuth,
    /// The v1 endpoint (`/{tenant}/oauth2/token`): the resource is named by `resource=` instead
    /// of scopes, and the response also carries `expires_on`, `not_before` and `resource`.
    pub v1: bool,
}

/// One variant per supported `grant_type`, holding what the adapter could check without the
/// directory. Parameters that are checked only once a code or refresh token is redeemed stay
/// optional and unparsed, so their errors keep coming after the redemption's.
#[derive(Debug, Clone)]
pub enum TokenGrant {
    /// `client_credentials`: the resource of `scope=<resource>/.default`, or of `resource=` on
    /// the v1 endpoint.
    ClientCredentials { resource: Resource },
    /// `password` (ROPC): the scopes, or on v1 the `resource` with `openid offline_access`.
    Password { username: String, password: Secret, scopes: DelegatedScopes },
    /// `authorization_code`. `code_verifier` is needed only if the code had a challenge.
    AuthorizationCode { code: Secret, redirect_uri: String, code_verifier: Option<Secret>, scope: Option<String> },
    /// `refresh_token`. Without `scope`, the scopes the token was issued for.
    RefreshToken { refresh_token: Secret, scope: Option<String> },
}

/// How the client names (and authenticates) itself.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `client_secret_basic`: the Authorization header. A `client_id` in the body, if any, was
    /// checked against it; a `client_secret` in the body is ignored.
    Basic { client_id: String, secret: Secret },
    /// `client_id` in the body, with `client_secret` (`client_secret_post`) or without it (a
    /// public client; a confidential one is refused once it is found).
    Post { client_id: String, secret: Option<Secret> },
}

impl ClientAuth {
    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::Basic { client_id, .. } | ClientAuth::Post { client_id, .. } => client_id,
        }
    }

    pub fn secret(&self) -> Option<&Secret> {
        match self {
            ClientAuth::Basic { secret, .. } => Some(secret),
            ClientAuth::Post { secret, .. } => secret.as_ref(),
        }
    }
}

/// The query (GET) or form (POST) of `/authorize`. Missing parameters are empty strings and
/// empty optional ones are `None`: `authorize_check` reports them in its own order.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}
