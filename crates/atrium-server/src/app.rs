//! The router, assembled in one place with its layers.

use crate::api;
use crate::error::ApiError;
use crate::state::AppState;
use atrium_api_types::Health;
use atrium_core::{Error, ErrorCode};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Builds the whole application.
///
/// Layer order, outermost first:
/// 1. trace — sees every request, including ones the inner layers reject;
/// 2. request id — set before anything logs, echoed back in `x-request-id`;
/// 3. timeout — bounds the handler and body reading below it;
/// 4. body limit — enforced while the body is read, so oversized bodies get a JSON 413.
///
/// 5. activity — innermost, so it sees the final status of account requests.
///
/// A CSRF check for cookie-authenticated writes lives in the `Authenticated` extractor (API)
/// and in the console's `Post` extractor (same origin plus a session-bound token); rate
/// limiting will sit around the sign-in and token routes.
pub fn build_app(state: AppState, max_body_bytes: usize, request_timeout: Duration) -> Router {
    let (api, _doc) = api::routes();
    let activity = axum::middleware::from_fn_with_state(state.activity.clone(), crate::activity::record);
    let metrics = axum::middleware::from_fn_with_state(state.metrics.clone(), crate::metrics::track);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .merge(crate::identity::routes())
        .merge(crate::invitations::routes())
        .merge(crate::graph::routes())
        .merge(crate::scim::routes())
        .merge(crate::console::routes())
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                // Spans name the path only: query strings can carry secrets (an invitation's
                // token, an authorization code), and logs must never hold them.
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                }))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
                .layer(DefaultBodyLimit::max(max_body_bytes))
                .layer(axum::middleware::map_request(host_from_authority))
                // Innermost: notes successful account requests for the activity history.
                .layer(activity),
        )
        // Outermost (6.): counts and times every request, by route template and final status.
        .layer(metrics)
        .with_state(state)
}

/// HTTP/2 requests carry the host in the `:authority` pseudo-header, not in `Host`. Copy it,
/// so URL building (issuer, links) and the same-origin check see one thing on every protocol.
async fn host_from_authority(mut req: axum::extract::Request) -> axum::extract::Request {
    if !req.headers().contains_key(axum::http::header::HOST)
        && let Some(v) = req.uri().authority().and_then(|a| axum::http::HeaderValue::from_str(a.as_str()).ok())
    {
        req.headers_mut().insert(axum::http::header::HOST, v);
    }
    req
}

/// The OpenAPI document, for tools and tests.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::routes().1
}

/// Liveness: the process answers.
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Readiness: the database answers, and the server is not shutting down (so a load balancer
/// stops sending new requests while in-flight ones finish). The reason stays in the log: the
/// database's error text is not for anonymous callers.
async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    if st.metrics.is_draining() {
        return ApiError(Error::new(ErrorCode::Unavailable).with_message("The server is shutting down.")).into_response();
    }
    // A probe must answer promptly: a database that hangs is as unready as one that refuses.
    let ping = tokio::time::timeout(Duration::from_secs(3), st.services.store().ping()).await;
    match ping.unwrap_or_else(|_| Err(atrium_core::ports::StoreError::Unavailable("no answer within 3 s".into()))) {
        Ok(()) => (StatusCode::OK, Json(Health { status: "ready".into() })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            ApiError(Error::new(ErrorCode::Unavailable).with_message("The database is not available.")).into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError(Error::new(ErrorCode::NotFound).with_message("No such endpoint."))
}
