//! Sign-in, sign-out, the signed-in user, and password change.

use super::convert;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated, PeerAddress, SESSION_COOKIE};
use crate::state::AppState;
use atrium_api_types::{ChangePasswordRequest, ErrorResponse, Me, SignInRequest, SignInResponse};
use atrium_core::secret::Secret;
use atrium_core::services::SignIn;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

pub(crate) fn cookie(value: &str, max_age: i64) -> HeaderValue {
    // Secure + HttpOnly + SameSite=Lax: never sent over plain HTTP (except to localhost, which
    // browsers treat as secure), never readable by scripts, never sent on cross-site POSTs.
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax"))
        .unwrap_or_else(|_| HeaderValue::from_static("atrium_session=; Path=/; Max-Age=0"))
}

/// Signs in with a tenant's username and password and starts a session.
#[utoipa::path(post, path = "/api/v1/sign-in", tag = "auth", request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = SignInResponse),
        (status = 401, description = "Wrong user name or password; or `mfa_required` / `invalid_mfa_code` for the second factor (`otp`)", body = ErrorResponse),
        (status = 403, description = "Locked or disabled account", body = ErrorResponse),
        (status = 404, description = "Unknown tenant", body = ErrorResponse),
        (status = 429, description = "`throttled`: too many failed sign-ins from this address (`throttle_sign_in_per_address`)", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds until the throttling window ends"))),
    ))]
async fn sign_in(State(st): State<AppState>, PeerAddress(source): PeerAddress, ApiJson(req): ApiJson<SignInRequest>) -> ApiResult<Response> {
    let input = SignIn { tenant: req.tenant, username: req.username, password: Secret::new(req.password), otp: req.otp.map(Secret::new), source };
    let signed = st.services.sign_in(input).await?;
    Ok(session_response(&st, &signed))
}

/// The reply of a sign-in (password or passkey): the session token in the body and a cookie.
pub(crate) fn session_response(st: &AppState, signed: &atrium_core::services::SignedIn) -> Response {
    let body = SignInResponse {
        token: signed.token.expose().to_owned(),
        expires_at: signed.session.expires_at.to_rfc3339(),
        must_change_password: signed.user.must_change_password,
        user: convert::user(&signed.user),
        tenant: convert::tenant(&signed.tenant),
    };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie(signed.token.expose(), st.session_seconds));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/sign-out", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorResponse)))]
async fn sign_out(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Response> {
    st.services.sign_out(&actor).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie("", 0));
    Ok(res)
}

/// The signed-in user and the tenant they signed in through.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorResponse)))]
async fn me(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Json<Me>> {
    let (user, tenant) = st.services.me(&actor).await?;
    Ok(Json(Me { user: convert::user(&user), tenant: convert::tenant(&tenant), instance_admin: actor.is_instance_admin() }))
}

/// Changes the signed-in user's password; ends their other sessions.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "The new password is too weak", body = ErrorResponse),
        (status = 401, description = "The current password is wrong", body = ErrorResponse),
    ))]
async fn change_password(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    st.services.change_password(&actor, &Secret::new(req.current_password), &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
