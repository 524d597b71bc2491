//! Passkeys (WebAuthn): the signed-in user's passkeys, and sign-in with one (no password).
//! The rules are in `services::passkeys`; the WebAuthn checks in `atrium-crypto`.
//!
//! A ceremony is two calls: `begin` returns a `ceremonyId` and the WebAuthn options (the
//! `publicKey` member of `navigator.credentials.create()`/`get()`, binary values in base64url);
//! the browser's `PublicKeyCredential`, binary values in base64url, goes back with the id.

use super::auth::session_response;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use atrium_api_types::{ErrorResponse, SignInResponse};
use atrium_core::model::Passkey;
use atrium_core::services::passkeys::{StartedCeremony, relying_party};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, finish_registration))
        .routes(routes!(begin_registration))
        .routes(routes!(rename, delete))
        .routes(routes!(begin_sign_in))
        .routes(routes!(finish_sign_in))
}

/// A registered passkey. The credential itself (public key, counter) is never shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyInfo {
    pub id: uuid::Uuid,
    /// 1 to 64 characters; "Passkey N" unless named.
    pub name: String,
    /// RFC 3339, UTC.
    pub created_date_time: String,
    /// The last sign-in with it (RFC 3339, UTC); absent if never used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_date_time: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyList {
    pub value: Vec<PasskeyInfo>,
}

/// A started ceremony.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyCeremony {
    /// Send it back with the browser's answer; it works once, for `expiresIn` seconds.
    pub ceremony_id: uuid::Uuid,
    pub expires_in: i64,
    /// WebAuthn `PublicKeyCredentialCreationOptions` (registration) or
    /// `PublicKeyCredentialRequestOptions` (sign-in), binary values in base64url.
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FinishPasskeyRegistration {
    pub ceremony_id: String,
    /// The browser's `PublicKeyCredential` from `navigator.credentials.create()`, as JSON
    /// (`id`, `rawId`, `type`, `response.attestationObject`, `response.clientDataJSON`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// 1 to 64 characters; "Passkey N" when absent.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenamePasskey {
    /// 1 to 64 characters.
    pub name: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BeginPasskeySignIn {
    /// Only passkeys of this tenant's users (GUID or domain), as on its authorize page.
    #[serde(default)]
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FinishPasskeySignIn {
    pub ceremony_id: String,
    /// The browser's `PublicKeyCredential` from `navigator.credentials.get()`, as JSON (`id`,
    /// `rawId`, `type`, `response.authenticatorData`, `response.clientDataJSON`,
    /// `response.signature`, `response.userHandle`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

pub(crate) fn info(p: &Passkey) -> PasskeyInfo {
    PasskeyInfo {
        id: p.id.as_uuid(),
        name: p.name.clone(),
        created_date_time: p.created_at.to_rfc3339(),
        last_used_date_time: p.last_used_at.map(|t| t.to_rfc3339()),
    }
}

fn ceremony(c: StartedCeremony) -> Response {
    let body = PasskeyCeremony { ceremony_id: c.id.as_uuid(), expires_in: c.expires_in, public_key: c.options.get("publicKey").cloned().unwrap_or_default() };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The relying party of this request: the host of the public URL (or of the request).
pub(crate) fn rp(st: &AppState, headers: &HeaderMap) -> Result<atrium_core::ports::RelyingParty, atrium_core::Error> {
    relying_party(&crate::identity::base_url(st, headers))
}

/// The signed-in user's passkeys, oldest first.
#[utoipa::path(get, path = "/api/v1/me/passkeys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = PasskeyList), (status = 401, body = ErrorResponse)))]
async fn list(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Json<PasskeyList>> {
    let list = st.services.list_passkeys(&actor).await?;
    Ok(Json(PasskeyList { value: list.iter().map(info).collect() }))
}

/// Starts adding a passkey: returns the options for `navigator.credentials.create()`.
#[utoipa::path(post, path = "/api/v1/me/passkeys/begin", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = PasskeyCeremony),
        (status = 400, description = "`passkeys_unavailable`: the server is reached by an IP address", body = ErrorResponse),
    ))]
async fn begin_registration(State(st): State<AppState>, headers: HeaderMap, Authenticated(actor): Authenticated) -> ApiResult<Response> {
    let rp = rp(&st, &headers)?;
    Ok(ceremony(st.services.begin_passkey_registration(&actor, &rp).await?))
}

/// Finishes adding a passkey with the browser's credential.
#[utoipa::path(post, path = "/api/v1/me/passkeys", tag = "auth", security(("bearer" = [])), request_body = FinishPasskeyRegistration,
    responses(
        (status = 201, body = PasskeyInfo),
        (status = 400, description = "`passkey_ceremony_not_found` (unknown, used or expired `ceremonyId`), `passkey_rejected` (the `credential` does not verify) or `invalid_name`", body = ErrorResponse),
        (status = 409, description = "`passkey_already_registered`", body = ErrorResponse),
    ))]
async fn finish_registration(
    State(st): State<AppState>,
    headers: HeaderMap,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<FinishPasskeyRegistration>,
) -> ApiResult<Response> {
    let rp = rp(&st, &headers)?;
    let p = st.services.finish_passkey_registration(&actor, &rp, &req.ceremony_id, &req.credential, req.name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(info(&p))).into_response())
}

/// Renames one of the signed-in user's passkeys.
#[utoipa::path(patch, path = "/api/v1/me/passkeys/{passkeyId}", tag = "auth", security(("bearer" = [])), request_body = RenamePasskey,
    params(("passkeyId" = uuid::Uuid, Path)),
    responses((status = 200, body = PasskeyInfo), (status = 404, description = "`passkey_not_found`", body = ErrorResponse)))]
async fn rename(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>, ApiJson(req): ApiJson<RenamePasskey>) -> ApiResult<Json<PasskeyInfo>> {
    let p = st.services.rename_passkey(&actor, &id, &req.name).await?;
    Ok(Json(info(&p)))
}

/// Removes one of the signed-in user's passkeys.
#[utoipa::path(delete, path = "/api/v1/me/passkeys/{passkeyId}", tag = "auth", security(("bearer" = [])),
    params(("passkeyId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, description = "`passkey_not_found`", body = ErrorResponse)))]
async fn delete(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<StatusCode> {
    st.services.delete_passkey(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a sign-in with a passkey (no user name, no password): returns the options for
/// `navigator.credentials.get()`.
#[utoipa::path(post, path = "/api/v1/sign-in/passkey/begin", tag = "auth", request_body = BeginPasskeySignIn,
    responses(
        (status = 200, body = PasskeyCeremony),
        (status = 400, description = "`passkeys_unavailable`: the server is reached by an IP address", body = ErrorResponse),
        (status = 404, description = "Unknown tenant", body = ErrorResponse),
    ))]
async fn begin_sign_in(State(st): State<AppState>, headers: HeaderMap, ApiJson(req): ApiJson<BeginPasskeySignIn>) -> ApiResult<Response> {
    let rp = rp(&st, &headers)?;
    Ok(ceremony(st.services.begin_passkey_sign_in(&rp, req.tenant.as_deref()).await?))
}

/// Signs in with a passkey: the same session as `POST /api/v1/sign-in`. A passkey is
/// multi-factor by itself (user verification), so no code is asked.
#[utoipa::path(post, path = "/api/v1/sign-in/passkey", tag = "auth", request_body = FinishPasskeySignIn,
    responses(
        (status = 200, description = "Signed in", body = SignInResponse),
        (status = 400, description = "`passkey_ceremony_not_found`: unknown, used or expired `ceremonyId`", body = ErrorResponse),
        (status = 401, description = "`invalid_passkey`: the `credential` does not verify or is not registered", body = ErrorResponse),
        (status = 403, description = "Disabled account", body = ErrorResponse),
    ))]
async fn finish_sign_in(State(st): State<AppState>, headers: HeaderMap, ApiJson(req): ApiJson<FinishPasskeySignIn>) -> ApiResult<Response> {
    let rp = rp(&st, &headers)?;
    let signed = st.services.passkey_sign_in(&rp, &req.ceremony_id, &req.credential).await?;
    Ok(session_response(&st, &signed))
}
