//! Provisioning tokens: what a tenant's SCIM client (Entra's provisioning service, Okta, an HR
//! system) presents at `/scim/v2`. Creating one turns the tenant into a directory-synced one (R5).

use super::tenant_id;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use atrium_core::ids::ProvisioningTokenId;
use atrium_core::model::ProvisioningToken;
use atrium_core::services::provisioning::NewProvisioningToken;
use atrium_core::time::Timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

/// The SCIM 2.0 base URL as clients reach this server (`/scim` answers too).
pub(crate) fn scim_url(st: &AppState, headers: &HeaderMap) -> String {
    format!("{}/scim/v2", crate::identity::base_url(st, headers))
}

pub(crate) fn token(t: &ProvisioningToken, now: Timestamp) -> api::ProvisioningToken {
    api::ProvisioningToken {
        id: t.id.as_uuid(),
        name: t.name.clone(),
        created_at: t.created_at.to_rfc3339(),
        expires_at: t.expires_at.to_rfc3339(),
        expired: t.expires_at <= now,
        created_by: t.created_by.map(|u| u.as_uuid()),
    }
}

/// `validDays` as the service takes it: a number out of `u32` is out of its range too, and the
/// service says so naming the field.
pub(crate) fn valid_days(days: Option<i64>) -> Option<u32> {
    days.map(|d| u32::try_from(d).unwrap_or(0))
}

/// Creates a provisioning token (global administrator of the tenant). The value is in this
/// response only; the tenant becomes directory-synced: users and groups arrive through SCIM and
/// creating them here is refused.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/provisioning/tokens", tag = "provisioning", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = api::CreateProvisioningTokenRequest,
    responses(
        (status = 201, description = "The token, shown once, and the SCIM base URL", body = api::CreatedProvisioningToken,
         headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Invalid name or validDays", body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, description = "The personal-accounts tenant cannot be provisioned", body = ErrorResponse),
    ))]
async fn create_token(
    State(st): State<AppState>,
    headers: HeaderMap,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<api::CreateProvisioningTokenRequest>,
) -> ApiResult<Response> {
    let input = NewProvisioningToken { name: req.name, valid_days: valid_days(req.valid_days) };
    let created = st.services.create_provisioning_token(&actor, tenant_id(&tid)?, input).await?;
    let t = &created.token;
    let body = api::CreatedProvisioningToken {
        id: t.id.as_uuid(),
        name: t.name.clone(),
        created_at: t.created_at.to_rfc3339(),
        expires_at: t.expires_at.to_rfc3339(),
        token: created.value.expose().to_owned(),
        scim_url: scim_url(&st, &headers),
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The tenant's provisioning tokens with their dates; never the values.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/provisioning/tokens", tag = "provisioning", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::ProvisioningTokenList), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_tokens(State(st): State<AppState>, headers: HeaderMap, Authenticated(actor): Authenticated, Path(tid): Path<String>) -> ApiResult<Json<api::ProvisioningTokenList>> {
    let tokens = st.services.list_provisioning_tokens(&actor, tenant_id(&tid)?).await?;
    let now = st.services.clock().now();
    Ok(Json(api::ProvisioningTokenList { value: tokens.iter().map(|t| token(t, now)).collect(), scim_url: scim_url(&st, &headers) }))
}

/// Revokes a token at once: the SCIM client using it is refused from the next request. The
/// tenant stays directory-synced and its provisioned objects stay owned by their source.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/provisioning/tokens/{tokenId}", tag = "provisioning", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("tokenId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn revoke_token(State(st): State<AppState>, Authenticated(actor): Authenticated, Path((tid, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = ProvisioningTokenId::parse(&id, "tokenId")?;
    st.services.revoke_provisioning_token(&actor, tenant_id(&tid)?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
