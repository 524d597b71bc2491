//! SCIM errors (RFC 7644 §3.12): `{"schemas":[Error],"status":"409","scimType":"uniqueness","detail":"..."}`,
//! with `status` a string. Service errors map onto them here and nowhere else.

use super::filter::FilterError;
use atrium_core::{Error, ErrorCode};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    /// On a 429: what refused and when to try again (`Retry-After`, RFC 7644 §3.12).
    pub throttled: Option<atrium_core::Throttled>,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), throttled: None }
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn precondition_failed() -> Self {
        Self::new(412, None, "The resource changed since this version was read (If-Match does not match); read it again.")
    }
}

impl From<FilterError> for ScimError {
    fn from(e: FilterError) -> Self {
        Self::new(400, Some("invalidFilter"), e.0)
    }
}

impl From<Error> for ScimError {
    fn from(e: Error) -> Self {
        let detail = crate::error::public_message(&e);
        let (status, scim_type) = match e.code {
            ErrorCode::UserNameTaken | ErrorCode::UpnTaken | ErrorCode::GroupNameTaken | ErrorCode::AlreadyGroupMember => (409, Some("uniqueness")),
            ErrorCode::ConcurrentChange => (412, None),
            ErrorCode::InvalidJson | ErrorCode::UnknownField | ErrorCode::MissingField => (400, Some("invalidSyntax")),
            // The query model refuses filters it cannot run with this target.
            _ if e.code.http_status() == 400 && e.target.as_deref() == Some("filter") => (400, Some("invalidFilter")),
            ErrorCode::SourceOfAuthority => (400, Some("mutability")),
            c if c.http_status() == 400 => (400, Some("invalidValue")),
            c => (c.http_status(), None),
        };
        Self { status, scim_type, detail, throttled: e.throttled }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut res = super::scim_json(status, &body);
        if self.status == 401 {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(t) = self.throttled {
            crate::error::retry_after(&mut res, t);
        }
        res
    }
}

pub type ScimResult<T> = Result<T, ScimError>;
