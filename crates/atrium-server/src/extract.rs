//! Request extractors that turn HTTP input into service input, with errors in the API's shape.

use crate::error::ApiError;
use crate::state::AppState;
use atrium_core::actor::Actor;
use atrium_core::page::ListQuery;
use atrium_core::secret::Secret;
use atrium_core::{Error, ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::de::DeserializeOwned;

pub const SESSION_COOKIE: &str = "atrium_session";

/// The client's address (the TCP peer; proxy headers are not trusted), for throttling by
/// address. Never fails: a request without one (none in production) is just not counted.
pub struct PeerAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())))
    }
}

/// A JSON body. Unknown fields, missing fields and type errors become 400s that name the
/// field; an oversized body is a 413; a body that is not JSON is a 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from(ErrorCode::PayloadTooLarge)
            } else {
                ApiError(Error::new(ErrorCode::InvalidRequest).with_message(r.body_text()))
            }
        })?;
        parse_json(&bytes).map(ApiJson).map_err(ApiError)
    }
}

/// Parses a JSON body strictly (see [`crate::json`]) and names the failing field in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    crate::json::from_value(crate::json::parse_value(bytes)?).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        let nested = |name: &str| if path == "." || path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
        if let Some(field) = between(&msg, "unknown field `", "`") {
            // serde_path_to_error already ends the path with the unknown field.
            let target = if path.ends_with(&field) { path.clone() } else { nested(&field) };
            Error::new(ErrorCode::UnknownField).with_message(format!("Unknown field '{field}'.")).with_target(target)
        } else if let Some(field) = between(&msg, "missing field `", "`") {
            Error::new(ErrorCode::MissingField)
                .with_message(format!("The field '{field}' is required."))
                .with_target(nested(&field))
        } else {
            let mut err = Error::new(ErrorCode::InvalidJson).with_message(format!("Invalid JSON: {msg}"));
            if path != "." && !path.is_empty() {
                err = err.with_target(path);
            }
            err
        }
    })
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_owned())
}

/// The signed-in caller, from `Authorization: Bearer <token>` or the session cookie.
///
/// Cookie-authenticated writes must come from the same origin (checked with
/// `Sec-Fetch-Site`/`Origin`), since browsers attach cookies to cross-site requests. Bearer
/// tokens are never attached by browsers, so they need no such check.
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (token, from_cookie) = session_token(parts).ok_or(ApiError::from(ErrorCode::Unauthenticated))?;
        if from_cookie && !is_safe_method(&parts.method) && !same_origin(parts) {
            return Err(ApiError(
                Error::new(ErrorCode::Forbidden).with_message("Cross-site request refused: cookie-authenticated writes must come from this origin."),
            ));
        }
        let actor = if from_cookie { state.services.authenticate(&token).await? } else { state.services.authenticate_bearer(&token).await? };
        Ok(Authenticated(actor))
    }
}

fn session_token(parts: &Parts) -> Option<(Secret, bool)> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return bearer(v).map(|t| (Secret::new(t), false));
    }
    cookie(&parts.headers, SESSION_COOKIE).map(|v| (Secret::new(v), true))
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The bearer token of a request's `Authorization` header, if it has one: the one parser for
/// REST, Graph, SCIM and ARM.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer)
}

/// The value of the cookie `name`, if the request has it.
pub(crate) fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_safe_method(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub(crate) fn same_origin(parts: &Parts) -> bool {
    if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    // HTTP/2's `:authority` is copied into Host by the router (`app::host_from_authority`).
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
        (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(_, h)| h == host),
        // Not a browser (browsers send Origin on cross-site writes).
        (None, _) => true,
        _ => false,
    }
}

/// `?search=&cursor=&limit=` of list endpoints.
pub struct ListParams(pub ListQuery);

#[derive(serde::Deserialize)]
struct RawListParams {
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(raw) = Query::<RawListParams>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError(Error::new(ErrorCode::InvalidRequest).with_message(e.body_text())))?;
        let limit = raw
            .limit
            .map(|l| l.parse::<u32>().map_err(|_| Error::new(ErrorCode::InvalidLimit).with_target("limit")))
            .transpose()?;
        Ok(ListParams(ListQuery::parse(raw.search.as_deref(), raw.cursor.as_deref(), limit)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        display_name: String,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        user_name: String,
    }

    #[test]
    fn names_the_field() {
        let e = parse_json::<Body>(br#"{"displayName":"a","colour":1}"#).unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::UnknownField, Some("colour")));
        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::MissingField, Some("displayName")));
        let e = parse_json::<Body>(br#"{"displayName":"a","inner":{}}"#).unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::MissingField, Some("inner.userName")));
        let e = parse_json::<Body>(br#"{"displayName":5}"#).unwrap_err();
        assert_eq!((e.code, e.target.as_deref()), (ErrorCode::InvalidJson, Some("displayName")));
        let e = parse_json::<Body>(b"{").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
    }
}
