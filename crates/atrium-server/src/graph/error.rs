//! Graph's error shape: `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}`, Graph's codes for the services' errors, and the headers every Graph
//! reply carries (`request-id`, `client-request-id`, and `WWW-Authenticate` on a 401).
//!
//! Handlers return [`GraphError`]; [`graph_headers`], the Graph router's layer, finishes its
//! body with what only the request knows (its ids, the date), so extractor refusals and handler
//! errors look the same.

use crate::state::AppState;
use atrium_core::{Error, ErrorCode};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Value, json};

/// Graph's JSON content type for every JSON reply.
const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// An error on its way to a Graph client (boxed: results stay small).
#[derive(Debug, Clone)]
pub struct GraphError(Box<Details>);

/// What a [`GraphError`] says.
#[derive(Debug, Clone)]
pub struct Details {
    pub status: StatusCode,
    /// Graph's code (`Request_ResourceNotFound`); `None`: chosen from the status by the route
    /// family (see [`family_code`]).
    pub code: Option<&'static str>,
    pub message: String,
    pub target: Option<String>,
    /// Atrium's own code, in `innerError.code`.
    pub inner_code: String,
    pub details: Vec<Value>,
    /// Set when throttling refused the request: `Retry-After` and the metric's scope.
    pub throttled: Option<atrium_core::Throttled>,
}

impl GraphError {
    /// `400 Request_UnsupportedQuery`: a query option, operator or property Atrium's Graph does
    /// not support. Never ignored silently.
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// `400 Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", message)
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(Details { status, code: Some(code), message: message.into(), target: None, inner_code: code.to_owned(), details: Vec::new(), throttled: None }))
    }

    pub fn with_target(mut self, t: impl Into<String>) -> Self {
        self.0.target = Some(t.into());
        self
    }
}

impl std::ops::Deref for GraphError {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl From<Error> for GraphError {
    fn from(e: Error) -> Self {
        let throttled = e.throttled;
        // Graph reports these as 400s, with its own words (microsoft-graph docs, entra-compat §6).
        let (status, code, message): (u16, Option<&'static str>, Option<&str>) = match e.code {
            ErrorCode::UpnTaken => (400, Some("Request_BadRequest"), Some("Another object with the same value for property userPrincipalName already exists.")),
            ErrorCode::AlreadyGroupMember => {
                (400, Some("Request_BadRequest"), Some("One or more added object references already exist for the following modified properties: 'members'."))
            }
            ErrorCode::WeakPassword => {
                (400, Some("Request_BadRequest"), Some("The specified password does not comply with password complexity requirements. Please provide a different password."))
            }
            c => (c.http_status(), None, None),
        };
        let body = crate::error::error_body(e);
        Self(Box::new(Details {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.map_or(body.message, str::to_owned),
            target: body.target,
            inner_code: body.code,
            details: body.details.iter().map(|d| json!({"code": d.code, "message": d.message, "target": d.target})).collect(),
            throttled,
        }))
    }
}

impl From<ErrorCode> for GraphError {
    fn from(c: ErrorCode) -> Self {
        Error::new(c).into()
    }
}

/// The body is finished by [`graph_headers`]; this is only the fallback for a reply that
/// somehow does not pass through it.
impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(json!({"error": {"code": self.code.unwrap_or("BadRequest"), "message": self.message}}))).into_response();
        res.extensions_mut().insert(self);
        res
    }
}

pub type GraphResult<T> = Result<T, GraphError>;

/// Graph's code for a status. Invitations (the invitation manager) say `BadRequest`;
/// directory objects say `Request_BadRequest`.
fn family_code(status: StatusCode, invitations: bool) -> &'static str {
    match status.as_u16() {
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        429 => "TooManyRequests",
        503 => "serviceNotAvailable",
        s if s >= 500 => "generalException",
        _ if invitations => "BadRequest",
        _ => "Request_BadRequest",
    }
}

/// The whole error reply, from the request's headers.
fn render(st: &AppState, headers: &HeaderMap, request_id: &str, e: GraphError, invitations: bool) -> Response {
    let e = *e.0;
    let code = e.code.unwrap_or_else(|| family_code(e.status, invitations));
    let date = st.services.clock().now().to_rfc3339();
    let mut inner = json!({ "code": e.inner_code, "date": date.trim_end_matches('Z').split('.').next().unwrap_or(&date), "request-id": request_id });
    inner["client-request-id"] = json!(client_request_id(headers).unwrap_or(request_id));
    let mut error = json!({ "code": code, "message": e.message, "innerError": inner });
    if let Some(t) = e.target {
        error["target"] = json!(t);
    }
    if !e.details.is_empty() {
        error["details"] = json!(e.details);
    }
    let mut res = (e.status, Json(json!({ "error": error }))).into_response();
    if e.status == StatusCode::UNAUTHORIZED {
        // What Graph sends: clients that do claims challenges or discovery read it.
        let base = crate::identity::base_url(st, headers);
        let v = format!("Bearer realm=\"\", authorization_uri=\"{base}/common/oauth2/authorize\", client_id=\"{}\"", atrium_core::graph::GRAPH_APP_ID);
        if let Ok(v) = HeaderValue::from_str(&v) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    if let Some(t) = e.throttled {
        // `Retry-After`, and the mark the metrics layer counts refusals by.
        crate::error::retry_after(&mut res, t);
    }
    res
}

/// An error reply for a request that never reached a Graph handler (the edge's refusals).
pub(crate) fn graph_error(st: &AppState, e: Error, headers: &HeaderMap) -> Response {
    let id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut res = render(st, headers, &id, e.into(), true);
    ids_on(&mut res, &id, headers);
    res
}

fn client_request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn ids_on(res: &mut Response, request_id: &str, headers: &HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        res.headers_mut().insert("request-id", v);
    }
    if let Some(v) = client_request_id(headers).and_then(|c| HeaderValue::from_str(c).ok()) {
        res.headers_mut().insert("client-request-id", v);
    }
}

/// The Graph router's layer: `request-id` (the request's `x-request-id`) and the echoed
/// `client-request-id` on every reply, Graph's JSON content type, and errors finished.
pub async fn graph_headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let invitations = req.uri().path().starts_with("/v1.0/invitations");
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut res = next.run(req).await;
    if let Some(e) = res.extensions_mut().remove::<GraphError>() {
        res = render(&st, &headers, &request_id, e, invitations);
    }
    let json = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if json {
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
    }
    ids_on(&mut res, &request_id, &headers);
    res
}
