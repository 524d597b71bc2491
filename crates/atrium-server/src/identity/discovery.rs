//! Discovery documents, the JWKS and the user-realm probe.

use super::{base_url, oauth_error};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Tenant names Entra accepts in place of a tenant; their documents keep `{tenantid}`.
const MULTI_TENANT: &[&str] = &["common", "organizations", "consumers"];

/// `/{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_configuration(State(st): State<AppState>, headers: HeaderMap, Path(tenant): Path<String>) -> Response {
    let base = base_url(&st, &headers);
    let (path_tenant, issuer_tenant) = if MULTI_TENANT.contains(&tenant.to_ascii_lowercase().as_str()) {
        (tenant.to_ascii_lowercase(), "{tenantid}".to_owned())
    } else {
        match st.services.identity_endpoint(&tenant, &base).await {
            Ok(ep) => (ep.tenant.id.to_string(), ep.tenant.id.to_string()),
            Err(e) => return oauth_error(&st, &headers, &e),
        }
    };
    let t = &path_tenant;
    Json(json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "name", "tid", "ver", "oid", "email"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }))
    .into_response()
}

/// `/{tenant}/discovery/v2.0/keys`: the active and recently retired signing keys.
pub async fn jwks(State(st): State<AppState>, headers: HeaderMap, Path(tenant): Path<String>) -> Response {
    let base = base_url(&st, &headers);
    let issuer = if MULTI_TENANT.contains(&tenant.to_ascii_lowercase().as_str()) {
        format!("{base}/{{tenantid}}/v2.0")
    } else {
        match st.services.identity_endpoint(&tenant, &base).await {
            Ok(ep) => ep.issuer_v2(),
            Err(e) => return oauth_error(&st, &headers, &e),
        }
    };
    let ring = st.keys.current();
    let keys: Vec<Value> = ring
        .jwks()
        .iter()
        .map(|k| {
            let mut k = k.clone();
            if let Value::Object(m) = &mut k {
                m.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
                m.insert("issuer".into(), json!(issuer));
            }
            k
        })
        .collect();
    Json(json!({ "keys": keys })).into_response()
}

/// `/common/userrealm/{user}`: MSAL asks it before ROPC. Atrium never federates, so a known
/// domain is "Managed" and anything else "Unknown" (never "Federated", which would start WS-Trust).
pub async fn user_realm(State(st): State<AppState>, Path(user): Path<String>) -> Response {
    let domain = user.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let known = !domain.is_empty() && st.services.resolve_tenant(&domain).await.is_ok();
    Json(json!({
        "ver": "1.0",
        "account_type": if known { "Managed" } else { "Unknown" },
        "domain_name": domain,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }))
    .into_response()
}
