//! The Microsoft identity platform endpoints (v2.0 and the v1 token endpoint), shaped as in
//! `shared/specs/entra-compat.md` so that unmodified MSAL and azure-identity accept them.
//! Every decision is made by `Services` (`atrium_core::services::identity`); this module only
//! parses forms and renders JSON, redirects and the sign-in page.

pub(crate) mod authorize;
mod discovery;
mod request;
pub(crate) mod token;

use crate::state::AppState;
use atrium_core::services::identity::OAuthError;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::jwks))
        .route("/{tenant}/discovery/keys", get(discovery::jwks))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::show).post(authorize::submit))
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token::token_v2))
        .route("/{tenant}/oauth2/token", axum::routing::post(token::token_v1))
        .route("/common/userrealm/{user}", get(discovery::user_realm))
}

/// The base URL of the issuer and of every link we hand out (invitations, SCIM locations): the
/// configured public URL, or the name the client used when it is one of this server's names
/// (`crate::edge` refuses other Hosts with 421 before any handler runs; checked again here so
/// a forged Host can never reach a link).
pub(crate) fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.public_url {
        return u.clone();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| st.allowed_hosts.allows(h)).unwrap_or(st.allowed_hosts.canonical());
    format!("https://{host}")
}

/// `client-request-id` if the client sent a sane one, else the request id: Entra echoes it as
/// the correlation id (and the sign-in log records the same one).
pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    let sane = |v: &&str| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(sane)
        .or_else(|| headers.get("x-request-id").and_then(|v| v.to_str().ok()).filter(sane))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Entra's error body: `error`, `error_description` ending with the trace and correlation ids
/// and a timestamp, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub(crate) fn oauth_error(st: &AppState, headers: &HeaderMap, e: &OAuthError) -> Response {
    let correlation = correlation_id(headers);
    let e = &for_reply(e, &correlation);
    let trace = uuid::Uuid::new_v4().to_string();
    let timestamp = st.services.clock().now().to_rfc3339().replace('T', " ");
    let body = json!({
        "error": e.error,
        "error_description": format!("{e}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"),
        "error_codes": [e.code],
        "timestamp": timestamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": format!("{}/error?code={}", base_url(st, headers), e.code),
    });
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, axum::Json(body)).into_response();
    no_store(&mut res, &correlation);
    if let Some(t) = e.throttled {
        crate::error::retry_after(&mut res, t);
    }
    res
}

/// A 5xx says only that it happened: the detail (a store's message may name tables or echo the
/// input) goes to the log, with the correlation id the reply carries.
pub(crate) fn for_reply(e: &OAuthError, correlation: &str) -> OAuthError {
    if e.status < 500 {
        return e.clone();
    }
    tracing::error!(error = %e, detail = e.detail.as_deref().unwrap_or(""), correlation_id = correlation, "identity endpoint failed");
    OAuthError { description: "The server could not complete the request: internal error.".into(), detail: None, ..e.clone() }
}

pub(crate) fn no_store(res: &mut Response, correlation: &str) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(correlation) {
        h.insert("client-request-id", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_reply_says_only_internal_error() {
        let e = OAuthError::server_error("invalid byte sequence for encoding \"UTF8\": 0x00");
        let r = for_reply(&e, "c0ffee");
        assert_eq!((r.error, r.code, r.status), ("server_error", 90099, 500));
        assert!(r.description.contains("internal error") && !r.to_string().contains("UTF8") && r.detail.is_none(), "{r}");
        // Other errors are the client's to read, unchanged.
        let e = OAuthError::malformed("the parameter 'scope' is repeated");
        assert_eq!(for_reply(&e, "c0ffee"), e);
    }
}
