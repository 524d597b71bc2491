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
        let throttled = e.throttled;
        let body = ErrorResponse { error: error_body(e) };
        let mut res = (status, Json(body)).into_response();
        if unauthenticated {
            res.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if let Some(t) = throttled {
            retry_after(&mut res, t);
        }
        res
    }
}

/// `Retry-After` on a 429, and the mark the metrics layer counts by scope.
pub fn retry_after(res: &mut Response, t: atrium_core::Throttled) {
    res.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(t.retry_after));
    res.extensions_mut().insert(t);
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The message a client may see. A 5xx (`internal`, `unavailable`) says only that it happened:
/// its detail may name tables, paths or a database's words, so it goes to the log (with the
/// request's span, whose id the reply carries in `x-request-id`).
pub fn public_message(e: &Error) -> String {
    if e.code.http_status() >= 500 {
        tracing::error!(code = e.code.as_str(), detail = %e.message, "server error");
        e.code.default_message().to_owned()
    } else {
        e.message.clone()
    }
}

/// The wire form of an error, with its per-item details. Internal details are logged, never sent.
pub fn error_body(e: Error) -> ErrorBody {
    let message = public_message(&e);
    ErrorBody { code: e.code.as_str().to_owned(), message, target: e.target, details: e.details.into_iter().map(error_body).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_5xx_says_only_that_it_happened() {
        let e = Error::new(ErrorCode::Unavailable).with_message("readiness: the database does not answer: password authentication failed for user \"atrium\"");
        assert_eq!(error_body(e).message, ErrorCode::Unavailable.default_message());
        assert_eq!(error_body(Error::internal("relation \"users\" does not exist")).message, ErrorCode::Internal.default_message());
        // A 4xx keeps its words: they are about the request.
        let e = Error::new(ErrorCode::InvalidRequest).with_message("The query parameter 'search' contains a NUL character.").with_target("search");
        let body = error_body(e);
        assert_eq!((body.message.as_str(), body.target.as_deref()), ("The query parameter 'search' contains a NUL character.", Some("search")));
    }
}
