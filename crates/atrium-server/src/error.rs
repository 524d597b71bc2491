//! The one place where service errors become HTTP responses.

use atrium_api_types::{ErrorBody, ErrorResponse};
use atrium_core::{Error, ErrorCode};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error of the REST API: `{"error":{"code","message","target"}}` with the code's status.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(c: ErrorCode) -> Self {
        Self(Error::new(c))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthenticated = e.code == ErrorCode::Unauthenticated;
        let body = ErrorResponse { error: error_body(e) };
        let mut res = (status, Json(body)).into_response();
        if unauthenticated {
            res.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The wire form of an error, with its per-item details. Internal details are logged, never sent.
pub fn error_body(e: Error) -> ErrorBody {
    let message = if e.code == ErrorCode::Internal {
        // The detail may name tables or paths: log it, and tell the client only that it happened.
        tracing::error!(detail = %e.message, "internal error");
        ErrorCode::Internal.default_message().to_owned()
    } else {
        e.message
    };
    ErrorBody { code: e.code.as_str().to_owned(), message, target: e.target, details: e.details.into_iter().map(error_body).collect() }
}
