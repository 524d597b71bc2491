//! Azure Resource Manager, enough for the Azure CLI and azure-mgmt-resource (see
//! `shared/specs/entra-compat.md` §8): the cloud metadata that `az cloud register` reads, and
//! `GET /tenants`, `GET /subscriptions`, `GET /subscriptions/{id}` in ARM's shapes. Who sees
//! what is decided by `Services` (`atrium_core::services::arm`); this module checks the bearer
//! header, renders ARM's JSON and its error shape `{"error":{"code","message"}}`.
//!
//! `GET /subscriptions` and `GET /subscriptions/{id}` are also console pages. ARM clients always
//! send `api-version` and a bearer token, and browsers never send either there: such a request
//! is ARM's, anything else goes to the console's handler.

mod metadata;
mod resources;

use crate::state::AppState;
use atrium_core::services::arm::ArmCaller;
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metadata/endpoints", get(metadata::endpoints))
        // `az cloud register --endpoint-resource-manager https://host/` joins with a second slash.
        .route("//metadata/endpoints", get(metadata::endpoints))
        .route("/tenants", get(resources::tenants))
        .route("/subscriptions", get(resources::subscriptions_or_console))
        .route("/subscriptions/{subscriptionId}", get(resources::subscription_or_console))
}

/// True for a request meant for ARM: it names an `api-version` or carries a bearer token.
fn is_arm_request(req: &Request) -> bool {
    crate::extract::bearer_token(req.headers()).is_some() || api_version(req.uri().query()).is_some()
}

/// The `api-version` query parameter, if any.
fn api_version(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == "api-version").map(|(_, v)| v.into_owned())
}

/// An ARM error: `{"error":{"code","message"}}` with ARM's code for the status.
pub(crate) struct ArmError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// For a 401: where tokens come from (ARM names its login endpoint).
    login: Option<String>,
}

impl ArmError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ArmError { status, code, message: message.into(), login: None }
    }

    fn missing_api_version() -> Self {
        ArmError::new(StatusCode::BAD_REQUEST, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
    }

    fn missing_token() -> Self {
        ArmError::new(StatusCode::UNAUTHORIZED, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    }
}

impl From<Error> for ArmError {
    fn from(e: Error) -> Self {
        let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match (e.code, e.target.as_deref()) {
            (ErrorCode::Unauthenticated, Some("aud")) => "InvalidAuthenticationTokenAudience",
            (ErrorCode::Unauthenticated, _) => "InvalidAuthenticationToken",
            (ErrorCode::SubscriptionNotFound, _) => "SubscriptionNotFound",
            (ErrorCode::InvalidRequest, Some("subscriptionId")) => "InvalidSubscriptionId",
            _ => match status.as_u16() {
                403 => "AuthorizationFailed",
                404 => "NotFound",
                429 => "TooManyRequests",
                s if s >= 500 => "InternalServerError",
                _ => "BadRequest",
            },
        };
        // 5xx details stay in the log (`error_body` logs and replaces them).
        let message = crate::error::error_body(e).message;
        ArmError { status, code, message, login: None }
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(json!({ "error": { "code": self.code, "message": self.message } }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // As ARM: where to get a token, and why this one was refused.
            let login = self.login.unwrap_or_default();
            let v = format!("Bearer authorization_uri=\"{login}/\", error=\"invalid_token\", error_description=\"{}\"", self.message.replace('"', "'"));
            if let Ok(v) = HeaderValue::from_str(&v) {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}

/// The caller of an ARM request: `api-version` present, and a valid ARM bearer token.
pub(crate) async fn arm_caller(st: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<ArmCaller, ArmError> {
    let login = |mut e: ArmError| {
        e.login = Some(crate::identity::base_url(st, headers));
        e
    };
    api_version(query).filter(|v| !v.is_empty()).ok_or_else(ArmError::missing_api_version)?;
    let token = crate::extract::bearer_token(headers).ok_or_else(|| login(ArmError::missing_token()))?;
    st.services.arm_caller(token).await.map_err(|e| login(e.into()))
}
