//! The audit log.

use super::{convert, tenant_id};
use crate::error::ApiResult;
use crate::extract::Authenticated;
use crate::state::AppState;
use atrium_api_types::{AuditEvent, ErrorResponse};
use atrium_core::{Error, ErrorCode};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditParams {
    tenant_id: Option<String>,
    limit: Option<String>,
}

/// Audit events, newest first. Without `tenantId` (instance admins only) the whole log.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(("tenantId" = Option<uuid::Uuid>, Query, description = "Only this tenant's events; without it, the whole log (instance administrators)"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 100")),
    responses((status = 200, body = Vec<AuditEvent>), (status = 403, body = ErrorResponse)))]
async fn list_audit(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    super::ApiQuery(p): super::ApiQuery<AuditParams>,
) -> ApiResult<Json<Vec<AuditEvent>>> {
    let tenant = p.tenant_id.as_deref().map(tenant_id).transpose()?;
    let limit = match p.limit {
        None => 100,
        Some(l) => l.parse::<u32>().ok().filter(|l| (1..=500).contains(l)).ok_or_else(|| {
            Error::new(ErrorCode::InvalidLimit).with_message("'limit' must be between 1 and 500.").with_target("limit")
        })?,
    };
    let events = st.services.list_audit(&actor, tenant, limit).await?;
    Ok(Json(events.iter().map(convert::audit).collect()))
}
