//! Scope strings: which resource a request is for, and which delegated scopes it asks for.

/// Microsoft Graph's resource identifier and appId. Graph tokens are v1.0 tokens.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The resource identifiers of the account-management API (Partner Center's Store APIs). Only
/// applications that are members of an account get tokens for them (R13).
pub const ACCOUNT_API_RESOURCES: &[&str] = &["https://manage.devcenter.microsoft.com", "https://api.store.microsoft.com", "api://atrium"];

/// Azure Resource Manager's resource identifiers (token audiences). The Azure CLI asks for
/// the first (`https://management.core.windows.net//.default`); azure-mgmt SDKs for the second.
/// ARM tokens are v1.0 tokens and are accepted only by the ARM routes.
pub const ARM_RESOURCES: &[&str] = &["https://management.core.windows.net/", "https://management.azure.com/"];

/// The OpenID Connect scopes that ask for an id_token and a refresh token, not for a resource.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A resource a token can be issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Microsoft Graph, named by the identifier the client used (it becomes `aud`).
    Graph { audience: String },
    /// Atrium's account API (`ACCOUNT_API_RESOURCES`).
    AccountApi { audience: String },
    /// Azure Resource Manager (`ARM_RESOURCES`), named by its canonical identifier.
    Arm { audience: String },
    /// An identifier to be resolved to an application of the tenant: its App ID URI,
    /// `api://<appId>` or `<appId>`.
    App { identifier: String },
}

impl Resource {
    pub fn from_identifier(id: &str) -> Self {
        let id = id.trim_end_matches('/');
        let lower = id.to_ascii_lowercase();
        if let Some(r) = ACCOUNT_API_RESOURCES.iter().find(|r| **r == lower) {
            return Resource::AccountApi { audience: (*r).to_owned() };
        }
        // With or without the trailing slash: the CLI's scope is `<resource>/.default` with the
        // resource ending in `/`, so both spellings arrive.
        if let Some(r) = ARM_RESOURCES.iter().find(|r| r.trim_end_matches('/') == lower) {
            return Resource::Arm { audience: (*r).to_owned() };
        }
        if lower == GRAPH_RESOURCE || lower == "https://graph.microsoft.com/" || lower == GRAPH_APP_ID || lower == "https://graph.windows.net" {
            Resource::Graph { audience: if lower == GRAPH_APP_ID { GRAPH_APP_ID.to_owned() } else { GRAPH_RESOURCE.to_owned() } }
        } else {
            Resource::App { identifier: id.to_owned() }
        }
    }
}

/// The resource part of a user-flow scope list and the delegated scope names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedScopes {
    pub resource: Resource,
    /// Space-separated `scp` value.
    pub scp: String,
    pub openid: bool,
    pub offline_access: bool,
}

/// Splits a user-flow scope string. A bare name such as `User.Read` is a Graph scope, as in
/// Entra; `<resource>/<name>` names another resource. One resource per request.
pub fn parse_delegated(scope: &str) -> Result<DelegatedScopes, String> {
    let mut resource: Option<Resource> = None;
    let mut scp = Vec::new();
    let (mut openid, mut offline) = (false, false);
    for s in scope.split_whitespace() {
        let lower = s.to_ascii_lowercase();
        if OIDC_SCOPES.contains(&lower.as_str()) {
            openid |= lower == "openid";
            offline |= lower == "offline_access";
            continue;
        }
        let (res, name) = match s.rfind('/') {
            Some(i) if i > 0 => (Resource::from_identifier(&s[..i]), &s[i + 1..]),
            _ => (Resource::Graph { audience: GRAPH_RESOURCE.to_owned() }, s),
        };
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            return Err(s.to_owned());
        }
        match &resource {
            Some(r) if *r != res => return Err(s.to_owned()),
            _ => resource = Some(res),
        }
        scp.push(if name == ".default" { "user_impersonation".to_owned() } else { name.to_owned() });
    }
    let resource = resource.unwrap_or(Resource::Graph { audience: GRAPH_RESOURCE.to_owned() });
    if scp.is_empty() {
        // Only OpenID scopes: Entra issues a Graph token carrying them.
        scp = ["openid", "profile", "email"].iter().map(|s| s.to_string()).collect();
    }
    Ok(DelegatedScopes { resource, scp: scp.join(" "), openid, offline_access: offline })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_and_app_scopes() {
        let d = parse_delegated("User.Read offline_access openid profile").unwrap();
        assert_eq!(d.resource, Resource::Graph { audience: GRAPH_RESOURCE.into() });
        assert_eq!(d.scp, "User.Read");
        assert!(d.openid && d.offline_access);
        let d = parse_delegated("api://contoso/access.read openid").unwrap();
        assert_eq!(d.resource, Resource::App { identifier: "api://contoso".into() });
        assert_eq!(d.scp, "access.read");
        assert!(parse_delegated("User.Read api://x/y").is_err(), "two resources");
        assert_eq!(Resource::from_identifier(GRAPH_APP_ID), Resource::Graph { audience: GRAPH_APP_ID.into() });
        let arm = Resource::Arm { audience: "https://management.core.windows.net/".into() };
        assert_eq!(parse_delegated("https://management.core.windows.net//.default").unwrap().resource, arm);
        assert_eq!(Resource::from_identifier("https://management.core.windows.net"), arm);
        assert_eq!(Resource::from_identifier("https://Management.Azure.com/"), Resource::Arm { audience: "https://management.azure.com/".into() });
    }
}
