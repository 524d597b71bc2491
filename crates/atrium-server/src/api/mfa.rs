//! Multi-factor sign-in: the signed-in user's authenticator app and recovery codes, an
//! administrator's reset, and the tenant's policy. The rules are in `services::mfa`.

use super::{tenant_id, user_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use atrium_api_types::{ConfirmTotpRequest, ConfirmTotpResponse, ErrorResponse, MfaPolicy, MfaStatus, TotpEnrolment};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start_totp, delete_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(reset))
        .routes(routes!(get_policy, set_policy))
}

/// The QR code of `text` as an SVG image (rendered here: no script, no CDN).
pub(crate) fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else { return String::new() };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"{px}\" height=\"{px}\" role=\"img\" aria-label=\"QR code for the authenticator app\" shape-rendering=\"crispEdges\">\
<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        px = size * 5
    )
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The signed-in user's multi-factor state.
#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), (status = 401, body = ErrorResponse)))]
async fn status(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Json<MfaStatus>> {
    let s = st.services.mfa_status(&actor).await?;
    Ok(Json(MfaStatus { totp: s.totp, totp_pending: s.totp_pending, recovery_codes_left: s.recovery_codes_left, required: s.required }))
}

/// Starts setting up an authenticator app (TOTP, RFC 6238): returns its secret, once, with the
/// `otpauth://` URI and its QR code. Confirm with a first code to turn it on.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 201, body = TotpEnrolment),
        (status = 409, description = "An authenticator app is already set up", body = ErrorResponse),
    ))]
async fn start_totp(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Response> {
    let e = st.services.start_totp(&actor).await?;
    let body = TotpEnrolment {
        secret: e.secret.expose().to_owned(),
        otpauth_uri: e.otpauth_uri.expose().to_owned(),
        qr_code_svg: qr_svg(e.otpauth_uri.expose()),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// Confirms the authenticator app with its current code and returns 10 single-use recovery
/// codes, shown this once.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/confirm", tag = "auth", security(("bearer" = [])), request_body = ConfirmTotpRequest,
    responses(
        (status = 200, body = ConfirmTotpResponse),
        (status = 400, description = "The code is not 6 digits", body = ErrorResponse),
        (status = 401, description = "The code is wrong", body = ErrorResponse),
        (status = 409, description = "Set-up was not started, or is already confirmed", body = ErrorResponse),
    ))]
async fn confirm_totp(State(st): State<AppState>, Authenticated(actor): Authenticated, ApiJson(req): ApiJson<ConfirmTotpRequest>) -> ApiResult<Response> {
    let codes = st.services.confirm_totp(&actor, &req.code).await?;
    let body = ConfirmTotpResponse { recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect() };
    Ok(no_store(Json(body).into_response()))
}

/// Removes the signed-in user's authenticator app and recovery codes.
#[utoipa::path(delete, path = "/api/v1/me/mfa/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 404, description = "No authenticator app is set up", body = ErrorResponse)))]
async fn delete_totp(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<StatusCode> {
    st.services.delete_totp(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets a user's multi-factor methods (a lost phone): they sign in with the password alone
/// until they set up a new authenticator app. Needs a global administrator; audited.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/users/{userId}/mfa/reset", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn reset(State(st): State<AppState>, Authenticated(actor): Authenticated, Path((tid, uid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    st.services.reset_mfa(&actor, tenant_id(&tid)?, user_id(&uid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's multi-factor policy.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/mfa-policy", tag = "tenants", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)),
    responses((status = 200, body = MfaPolicy), (status = 404, body = ErrorResponse)))]
async fn get_policy(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(tid): Path<String>) -> ApiResult<Json<MfaPolicy>> {
    let require = st.services.mfa_policy(&actor, tenant_id(&tid)?).await?;
    Ok(Json(MfaPolicy { require_mfa_for_global_admins: require }))
}

/// Sets the tenant's multi-factor policy. Needs a global administrator; audited.
#[utoipa::path(put, path = "/api/v1/tenants/{tenantId}/mfa-policy", tag = "tenants", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = MfaPolicy,
    responses((status = 200, body = MfaPolicy), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn set_policy(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<MfaPolicy>,
) -> ApiResult<Json<MfaPolicy>> {
    let require = st.services.set_mfa_policy(&actor, tenant_id(&tid)?, req.require_mfa_for_global_admins).await?;
    Ok(Json(MfaPolicy { require_mfa_for_global_admins: require }))
}
