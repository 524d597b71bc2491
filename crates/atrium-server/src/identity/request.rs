//! Parsing the token and authorize forms into core's typed requests. Pure functions over the
//! already-decoded form, so the OAuth errors of each parameter can be unit tested without HTTP.
//!
//! The checks run in the order the token endpoint has always reported problems in: `grant_type`,
//! then the grant's own parameters, then the client. Core reports the result only after the
//! tenant is found (an unknown tenant comes first), and checks the rest against the directory.

use atrium_core::secret::Secret;
use atrium_core::services::identity::{AuthorizeRequest, ClientAuth, DelegatedScopes, OAuthError, Resource, TokenGrant, TokenRequest, parse_delegated};
use std::collections::HashMap;

/// A decoded form (or query), each parameter once. An empty value counts as absent.
struct Form(HashMap<String, String>);

impl Form {
    fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name).filter(|v| !v.is_empty())
    }

    fn require(&mut self, name: &str) -> Result<String, OAuthError> {
        self.take(name).ok_or_else(|| OAuthError::missing_parameter(name))
    }
}

/// The token endpoint's form and `client_secret_basic` credentials as a typed request. `v1` is
/// the `/{tenant}/oauth2/token` endpoint, which names a `resource` instead of scopes.
pub(crate) fn token_request(params: HashMap<String, String>, basic: Option<(String, Secret)>, v1: bool) -> Result<TokenRequest, OAuthError> {
    let mut form = Form(params);
    let grant_type = form.require("grant_type")?;
    let grant = match grant_type.as_str() {
        "client_credentials" => TokenGrant::ClientCredentials { resource: client_credentials_resource(&mut form, v1)? },
        "password" => {
            let username = form.require("username")?;
            let password = Secret::new(form.require("password")?);
            TokenGrant::Password { username, password, scopes: delegated_scopes(&mut form, v1)? }
        }
        "authorization_code" => {
            let code = Secret::new(form.require("code")?);
            let redirect_uri = form.require("redirect_uri")?;
            TokenGrant::AuthorizationCode { code, redirect_uri, code_verifier: form.take("code_verifier").map(Secret::new), scope: form.take("scope") }
        }
        "refresh_token" => {
            let refresh_token = Secret::new(form.require("refresh_token")?);
            TokenGrant::RefreshToken { refresh_token, scope: form.take("scope") }
        }
        other => return Err(OAuthError::unsupported_grant(other)),
    };
    Ok(TokenRequest { grant, client: client_auth(&mut form, basic)?, v1 })
}

/// Client credentials name one resource: `resource=` on v1, else a single `<resource>/.default`.
fn client_credentials_resource(form: &mut Form, v1: bool) -> Result<Resource, OAuthError> {
    if v1 {
        return Ok(Resource::from_identifier(&form.require("resource")?));
    }
    let scope = form.require("scope")?;
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    match scopes.as_slice() {
        [one] => match one.strip_suffix("/.default") {
            Some(r) if !r.is_empty() => Ok(Resource::from_identifier(r)),
            _ => Err(OAuthError::cc_scope_needs_default(one)),
        },
        _ => Err(OAuthError::invalid_scope(&scope)),
    }
}

/// The scopes of a password grant. v1 has no scopes: its `resource` stands for the resource's
/// `.default` scope, with `openid offline_access` for an id token and a refresh token.
fn delegated_scopes(form: &mut Form, v1: bool) -> Result<DelegatedScopes, OAuthError> {
    let scope = if v1 {
        format!("{}/.default openid offline_access", form.require("resource")?.trim_end_matches('/'))
    } else {
        form.require("scope")?
    };
    parse_delegated(&scope).map_err(|s| OAuthError::invalid_scope(&s))
}

/// Basic credentials win; a `client_id` also in the body must then be the same one.
fn client_auth(form: &mut Form, basic: Option<(String, Secret)>) -> Result<ClientAuth, OAuthError> {
    match basic {
        Some((client_id, secret)) => {
            if form.take("client_id").is_some_and(|body_id| body_id != client_id) {
                return Err(OAuthError::malformed("client_id in the body differs from the Basic credentials"));
            }
            Ok(ClientAuth::Basic { client_id, secret })
        }
        None => {
            let client_id = form.require("client_id")?;
            Ok(ClientAuth::Post { client_id, secret: form.take("client_secret").map(Secret::new) })
        }
    }
}

/// `/authorize`'s query or form. Never fails: `authorize_check` reports missing parameters, in
/// its order (client and redirect URI on the page, the rest back to the app).
pub(crate) fn authorize_request(params: &HashMap<String, String>) -> AuthorizeRequest {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let opt = |k: &str| params.get(k).cloned().filter(|v| !v.is_empty());
    AuthorizeRequest {
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        response_type: get("response_type"),
        scope: get("scope"),
        state: opt("state"),
        nonce: opt("nonce"),
        code_challenge: opt("code_challenge"),
        code_challenge_method: opt("code_challenge_method"),
    }
}

/// The user name (trimmed) and password posted on the sign-in page; empty when absent.
pub(crate) fn sign_in_credentials(params: &HashMap<String, String>) -> (String, Secret) {
    let username = params.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    (username, Secret::new(params.get("password").cloned().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_core::services::identity::GRAPH_RESOURCE;

    const CID: &str = "11111111-2222-3333-4444-555555555555";

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenRequest, OAuthError> {
        token_request(form(pairs), None, false)
    }

    fn err(pairs: &[(&str, &str)]) -> OAuthError {
        parse(pairs).unwrap_err()
    }

    #[test]
    fn client_credentials_v2_and_v1() {
        let r = parse(&[("grant_type", "client_credentials"), ("client_id", CID), ("client_secret", "s3cret"), ("scope", "api://contoso/.default")]).unwrap();
        assert!(matches!(&r.grant, TokenGrant::ClientCredentials { resource: Resource::App { identifier } } if identifier == "api://contoso"));
        assert!(matches!(&r.client, ClientAuth::Post { client_id, secret: Some(s) } if client_id == CID && s.expose() == "s3cret"));
        assert!(!r.v1);
        let r = token_request(form(&[("grant_type", "client_credentials"), ("client_id", CID), ("client_secret", "s"), ("resource", "https://graph.microsoft.com/")]), None, true).unwrap();
        assert!(matches!(&r.grant, TokenGrant::ClientCredentials { resource: Resource::Graph { audience } } if audience == GRAPH_RESOURCE));
        assert!(r.v1);
    }

    #[test]
    fn client_credentials_scope_errors() {
        let cc = |scope: &str| err(&[("grant_type", "client_credentials"), ("client_id", CID), ("scope", scope)]);
        assert_eq!(cc("api://contoso"), OAuthError::cc_scope_needs_default("api://contoso"));
        assert_eq!(cc("/.default"), OAuthError::cc_scope_needs_default("/.default"));
        assert_eq!(cc("a/.default b/.default"), OAuthError::invalid_scope("a/.default b/.default"));
        assert_eq!(err(&[("grant_type", "client_credentials"), ("client_id", CID)]), OAuthError::missing_parameter("scope"));
        // v1 names a resource, not a scope.
        let v1 = token_request(form(&[("grant_type", "client_credentials"), ("client_id", CID), ("scope", "x/.default")]), None, true);
        assert_eq!(v1.unwrap_err(), OAuthError::missing_parameter("resource"));
        // The scope is checked before the client.
        assert_eq!(err(&[("grant_type", "client_credentials"), ("scope", "x")]), OAuthError::cc_scope_needs_default("x"));
    }

    #[test]
    fn password_grant() {
        let r = parse(&[("grant_type", "password"), ("client_id", CID), ("username", "adele@contoso.com"), ("password", "pw"), ("scope", "User.Read openid offline_access")]).unwrap();
        let TokenGrant::Password { username, password, scopes } = &r.grant else { panic!("{r:?}") };
        assert_eq!((username.as_str(), password.expose()), ("adele@contoso.com", "pw"));
        assert_eq!((scopes.scp.as_str(), scopes.openid, scopes.offline_access), ("User.Read", true, true));
        assert!(matches!(&r.client, ClientAuth::Post { secret: None, .. }), "a public client sends no secret");
        let v1 = token_request(form(&[("grant_type", "password"), ("client_id", CID), ("username", "u"), ("password", "p"), ("resource", "api://contoso/")]), None, true).unwrap();
        let TokenGrant::Password { scopes, .. } = &v1.grant else { panic!("{v1:?}") };
        assert_eq!(scopes.resource, Resource::App { identifier: "api://contoso".into() });
        assert_eq!((scopes.scp.as_str(), scopes.openid, scopes.offline_access), ("user_impersonation", true, true));
    }

    #[test]
    fn password_grant_errors_in_order() {
        assert_eq!(err(&[("grant_type", "password"), ("scope", "openid")]), OAuthError::missing_parameter("username"));
        assert_eq!(err(&[("grant_type", "password"), ("username", "u")]), OAuthError::missing_parameter("password"));
        assert_eq!(err(&[("grant_type", "password"), ("username", "u"), ("password", "p")]), OAuthError::missing_parameter("scope"));
        // An invalid scope is reported before a missing client_id.
        assert_eq!(err(&[("grant_type", "password"), ("username", "u"), ("password", "p"), ("scope", "User.Read api://x/y")]), OAuthError::invalid_scope("api://x/y"));
        assert_eq!(err(&[("grant_type", "password"), ("username", "u"), ("password", "p"), ("scope", "openid")]), OAuthError::missing_parameter("client_id"));
    }

    #[test]
    fn authorization_code_grant() {
        let r = parse(&[("grant_type", "authorization_code"), ("client_id", CID), ("code", "atrc_x"), ("redirect_uri", "https://web/cb"), ("code_verifier", "v")]).unwrap();
        let TokenGrant::AuthorizationCode { code, redirect_uri, code_verifier, scope } = &r.grant else { panic!("{r:?}") };
        assert_eq!((code.expose(), redirect_uri.as_str()), ("atrc_x", "https://web/cb"));
        assert_eq!(code_verifier.as_ref().map(Secret::expose), Some("v"));
        assert_eq!(*scope, None);
        assert_eq!(err(&[("grant_type", "authorization_code"), ("redirect_uri", "r")]), OAuthError::missing_parameter("code"));
        assert_eq!(err(&[("grant_type", "authorization_code"), ("code", "c")]), OAuthError::missing_parameter("redirect_uri"));
        assert_eq!(err(&[("grant_type", "authorization_code"), ("code", "c"), ("redirect_uri", "r")]), OAuthError::missing_parameter("client_id"));
    }

    #[test]
    fn refresh_token_grant() {
        let r = parse(&[("grant_type", "refresh_token"), ("client_id", CID), ("refresh_token", "atrr_x"), ("scope", "User.Read")]).unwrap();
        let TokenGrant::RefreshToken { refresh_token, scope } = &r.grant else { panic!("{r:?}") };
        assert_eq!((refresh_token.expose(), scope.as_deref()), ("atrr_x", Some("User.Read")));
        // The scope is parsed only after the token is redeemed, so a bad one is not an error here.
        assert!(parse(&[("grant_type", "refresh_token"), ("client_id", CID), ("refresh_token", "t"), ("scope", "a/x b/y")]).is_ok());
        assert_eq!(err(&[("grant_type", "refresh_token"), ("client_id", CID)]), OAuthError::missing_parameter("refresh_token"));
    }

    #[test]
    fn grant_type_missing_empty_or_unknown() {
        assert_eq!(err(&[]), OAuthError::missing_parameter("grant_type"));
        assert_eq!(err(&[("grant_type", ""), ("client_id", CID)]), OAuthError::missing_parameter("grant_type"));
        assert_eq!(err(&[("grant_type", "magic")]), OAuthError::unsupported_grant("magic"));
        assert_eq!(err(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")]).code, 70003);
        // Empty parameters count as absent.
        assert_eq!(err(&[("grant_type", "refresh_token"), ("refresh_token", "")]), OAuthError::missing_parameter("refresh_token"));
    }

    #[test]
    fn basic_credentials() {
        let basic = || Some((CID.to_owned(), Secret::new("s3cret")));
        let cc = |extra: &[(&str, &str)]| {
            let mut f = form(&[("grant_type", "client_credentials"), ("scope", "api://contoso/.default"), ("client_secret", "ignored")]);
            f.extend(form(extra));
            token_request(f, basic(), false)
        };
        let r = cc(&[]).unwrap();
        assert!(matches!(&r.client, ClientAuth::Basic { client_id, secret } if client_id == CID && secret.expose() == "s3cret"));
        assert_eq!(r.client.secret().map(Secret::expose), Some("s3cret"), "the Basic secret wins over the body's");
        assert!(cc(&[("client_id", CID)]).is_ok());
        assert_eq!(cc(&[("client_id", "other")]).unwrap_err(), OAuthError::malformed("client_id in the body differs from the Basic credentials"));
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let r = parse(&[("grant_type", "password"), ("client_id", CID), ("client_secret", "csecret"), ("username", "u"), ("password", "hunter2"), ("scope", "openid")]).unwrap();
        let d = format!("{r:?}");
        assert!(!d.contains("hunter2") && !d.contains("csecret"), "{d}");
        let r = parse(&[("grant_type", "authorization_code"), ("client_id", CID), ("code", "atrc_code"), ("redirect_uri", "r"), ("code_verifier", "pkce-v3rifier")]).unwrap();
        let d = format!("{r:?}");
        assert!(!d.contains("atrc_code") && !d.contains("pkce-v3rifier"), "{d}");
    }

    #[test]
    fn authorize_request_and_sign_in() {
        let p = form(&[("client_id", CID), ("redirect_uri", "https://web/cb"), ("response_type", "code"), ("scope", "openid"), ("state", ""), ("nonce", "n")]);
        let r = authorize_request(&p);
        assert_eq!((r.client_id.as_str(), r.redirect_uri.as_str(), r.response_type.as_str(), r.scope.as_str()), (CID, "https://web/cb", "code", "openid"));
        assert_eq!((r.state, r.nonce, r.code_challenge), (None, Some("n".into()), None));
        assert_eq!(authorize_request(&form(&[])).client_id, "");
        let (u, pw) = sign_in_credentials(&form(&[("username", " adele "), ("password", "pw")]));
        assert_eq!((u.as_str(), pw.expose()), ("adele", "pw"));
        let (u, pw) = sign_in_credentials(&form(&[]));
        assert!(u.is_empty() && pw.expose().is_empty());
    }
}
