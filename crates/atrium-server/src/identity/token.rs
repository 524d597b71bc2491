//! The token endpoints: `/{tenant}/oauth2/v2.0/token` and the v1 `/{tenant}/oauth2/token`.

use super::request::token_request;
use super::{base_url, correlation_id, no_store, oauth_error};
use crate::state::AppState;
use atrium_core::secret::Secret;
use atrium_core::services::identity::{OAuthError, TokenRequest};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::HashMap;

pub async fn token_v2(State(st): State<AppState>, Path(tenant): Path<String>, req: Request) -> Response {
    token(st, tenant, req, false).await
}

pub async fn token_v1(State(st): State<AppState>, Path(tenant): Path<String>, req: Request) -> Response {
    token(st, tenant, req, true).await
}

async fn token(st: AppState, tenant: String, req: Request, v1: bool) -> Response {
    let headers = req.headers().clone();
    let source = crate::serve::peer_address(&req);
    // A body that is not a readable form fails here; a form whose parameters are wrong goes to
    // core as the error, reported after the tenant is looked up.
    let parsed = match parse(req, &st, v1).await {
        Ok(p) => p,
        Err(e) => return oauth_error(&st, &headers, &e),
    };
    let grant = parsed.as_ref().ok().map(|r| crate::metrics::grant_of(&r.grant));
    match st.services.token(&tenant, &base_url(&st, &headers), source.as_deref(), parsed).await {
        Ok(t) => {
            st.metrics.token_issued(grant);
            let mut res = (StatusCode::OK, Json(t)).into_response();
            no_store(&mut res, &correlation_id(&headers));
            res
        }
        Err(e) => {
            st.metrics.token_refused(&e);
            oauth_error(&st, &headers, &e)
        }
    }
}

/// Reads the form body and the Basic credentials. Malformed input is an OAuth error, never a
/// 500: wrong media type, bad encoding, a repeated parameter or an oversized body. The inner
/// result is the typed request, or what is wrong with its parameters.
async fn parse(req: Request, st: &AppState, v1: bool) -> Result<Result<TokenRequest, OAuthError>, OAuthError> {
    let headers = req.headers().clone();
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")));
    if !form {
        return Err(OAuthError::malformed("the body must be application/x-www-form-urlencoded"));
    }
    let bytes = Bytes::from_request(req, st).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::malformed("the request body is too large")
        } else {
            OAuthError::malformed("the request body could not be read")
        }
    })?;
    let params = parse_form(&bytes)?;
    Ok(token_request(params, basic_credentials(&headers)?, v1))
}

pub(crate) fn parse_form(bytes: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        if params.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::malformed(&format!("the parameter '{k}' is repeated")));
        }
    }
    Ok(params)
}

/// `client_secret_basic`: both parts are form-urlencoded inside the Basic header (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, Secret)>, OAuthError> {
    let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some((scheme, value)) = v.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError::malformed("the Basic credentials are not valid");
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.to_string()).unwrap_or_default();
    let (id, secret) = (unescape(id), unescape(secret));
    // The header is not a form field, so the edge layer cannot see inside it: refuse NUL here.
    if id.contains('\0') || secret.contains('\0') {
        return Err(OAuthError::malformed("the Basic credentials contain a NUL character"));
    }
    Ok(Some((id, Secret::new(secret))))
}
