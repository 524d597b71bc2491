//! The router, assembled in one place with its layers.

use crate::api;
use crate::error::ApiError;
use crate::state::AppState;
use atrium_api_types::Health;
use atrium_core::{Error, ErrorCode};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Builds the whole application.
///
/// Layer order, outermost first:
/// 0. metrics — a `Router::layer` of its own, so it sees the route template (`MatchedPath`)
///    and every final status, including the inner layers' refusals;
/// 1. request id — set before anything logs, echoed back in `x-request-id`, so a client's
///    report of a 5xx (which says only "internal error") finds its log lines;
/// 2. trace — sees every request, including ones the inner layers reject; its span carries the
///    request id;
/// 3. response headers — `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` on
///    every reply that does not set its own (see [`security_headers`]);
/// 4. timeout — bounds the handler and body reading below it;
/// 5. body limit — enforced while the body is read, so oversized bodies get a 413;
/// 6. the edge (`crate::edge`) — reads the body whole (no HTTP/2 reset on early replies),
///    answers 421 to a Host that is not ours, and 400 to NUL or invalid UTF-8 in any path
///    segment, query parameter, form field or JSON string, in the interface's error shape;
/// 7. activity — innermost, so it sees the final status of account requests.
///
/// `Strict-Transport-Security` is added by [`with_hsts`] on the HTTPS listener only.
///
/// A CSRF check for cookie-authenticated writes lives in the `Authenticated` extractor (API)
/// and in the console's `Post` extractor (same origin plus a session-bound token); rate
/// limiting will sit around the sign-in and token routes.
pub fn build_app(state: AppState, max_body_bytes: usize, request_timeout: Duration) -> Router {
    let (api, _doc) = api::routes();
    let activity = axum::middleware::from_fn_with_state(state.activity.clone(), crate::activity::record);
    let metrics = axum::middleware::from_fn_with_state(state.metrics.clone(), crate::metrics::track);
    let request_id = HeaderName::from_static("x-request-id");
    let edge = crate::edge::Edge { state: state.clone(), max_body_bytes };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .merge(crate::identity::routes())
        .merge(crate::invitations::routes())
        .merge(crate::graph::routes(&state))
        .merge(crate::arm::routes())
        .merge(crate::scim::routes())
        .merge(crate::console::routes())
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(request_id))
                // Spans name the path only: query strings can carry secrets (an invitation's
                // token, an authorization code), and logs must never hold them.
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                    // A client may send its own id: only a plain one goes into the logs.
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = id)
                }))
                .layer(security_headers())
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
                .layer(DefaultBodyLimit::max(max_body_bytes))
                // Before the edge, whose error replies may build links from the Host.
                .layer(axum::middleware::map_request(host_from_authority))
                .layer(axum::middleware::from_fn_with_state(edge, crate::edge::guard))
                // The request's address, user agent and correlation id, for the sign-in log.
                .layer(axum::middleware::from_fn(crate::sign_ins::context))
                // Innermost: notes successful account requests for the activity history.
                .layer(activity),
        )
        // Outermost (0.): counts and times every request, by route template and final status.
        .layer(metrics)
        .with_state(state)
}

/// Headers every reply gets unless its handler set its own.
///
/// `Cache-Control: no-store` by default: replies of the API, the identity endpoints and the
/// console carry secrets (client-secret values, temporary passwords, provisioning tokens,
/// invitation links, access and refresh tokens, sessions) or per-user data, and none of them may
/// sit in a shared or disk cache. Only what is safe to keep says so itself (the console's
/// versioned static files).
pub fn security_headers() -> tower::layer::util::Stack<SetResponseHeaderLayer<HeaderValue>, SetResponseHeaderLayer<HeaderValue>> {
    tower::layer::util::Stack::new(
        SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    )
}

/// The HTTPS listener's router: every reply tells browsers to use HTTPS only, for a year. The
/// plain-HTTP listener (loopback only) does not send it (RFC 6797 has browsers ignore it over
/// plain HTTP). Browsers record it for host names, not for IP addresses (RFC 6797 §8.1), so the
/// plain listener stays usable at the address `serve` prints.
pub fn with_hsts(router: Router) -> Router {
    router.layer(SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000")))
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
