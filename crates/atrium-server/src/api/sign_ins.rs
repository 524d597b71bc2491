//! Sign-in logs (`GET /api/v1/sign-ins`).

use super::{tenant_id, user_id};
use crate::error::ApiResult;
use crate::extract::Authenticated;
use crate::state::AppState;
use atrium_api_types::{ErrorResponse, Page, SignInLog, SignInStatus};
use atrium_core::page::ListQuery;
use atrium_core::sign_ins::{SignInEntry, SignInFilter, SignInKind, parse_time};
use atrium_core::{Error, ErrorCode};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_sign_ins))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignInParams {
    tenant_id: Option<String>,
    user_id: Option<String>,
    app_id: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Sign-in attempts, newest first, kept 30 days. Global administrators see their tenant's;
/// instance administrators any tenant's, or every tenant's without `tenantId`.
#[utoipa::path(get, path = "/api/v1/sign-ins", tag = "audit", security(("bearer" = [])),
    params(
        ("tenantId" = Option<uuid::Uuid>, Query, description = "Only this tenant's sign-ins (default: the caller's tenant; instance administrators: all)"),
        ("userId" = Option<uuid::Uuid>, Query, description = "Only this user's sign-ins"),
        ("appId" = Option<String>, Query, max_length = 64, description = "Only sign-ins with this client id"),
        ("status" = Option<String>, Query, pattern = "^(success|failure)$", description = "`success` or `failure`"),
        ("from" = Option<String>, Query, format = DateTime, description = "At or after this time (RFC 3339)"),
        ("to" = Option<String>, Query, format = DateTime, description = "Before this time (RFC 3339)"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50"),
    ),
    responses((status = 200, body = Page<SignInLog>), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, description = "Another tenant", body = ErrorResponse)))]
async fn list_sign_ins(State(st): State<AppState>, Authenticated(actor): Authenticated, super::ApiQuery(p): super::ApiQuery<SignInParams>) -> ApiResult<Json<Page<SignInLog>>> {
    let bad = |field: &str, what: &str| Error::new(ErrorCode::InvalidRequest).with_message(format!("'{field}' must be {what}.")).with_target(field);
    let time = |field: &str, v: Option<&str>| v.map(|s| parse_time(s).ok_or_else(|| bad(field, "an RFC 3339 date-time, e.g. 2026-11-25T16:26:45Z"))).transpose();
    let limit = match p.limit.as_deref() {
        None => None,
        Some(l) => Some(l.parse::<u32>().map_err(|_| Error::new(ErrorCode::InvalidLimit).with_target("limit"))?),
    };
    let q = ListQuery::parse(None, p.cursor.as_deref(), limit)?;
    let filter = SignInFilter {
        tenant_id: p.tenant_id.as_deref().map(tenant_id).transpose()?,
        user_id: p.user_id.as_deref().map(user_id).transpose()?,
        app_id: match p.app_id {
            Some(a) if a.len() > 64 || a.chars().any(char::is_control) => return Err(bad("appId", "a client id").into()),
            a => a,
        },
        success: match p.status.as_deref() {
            None => None,
            Some("success") => Some(true),
            Some("failure") => Some(false),
            Some(_) => return Err(bad("status", "'success' or 'failure'").into()),
        },
        from: time("from", p.from.as_deref())?,
        to: time("to", p.to.as_deref())?,
        ..SignInFilter::default()
    };
    let page = st.services.list_sign_ins(&actor, filter, &q).await?;
    Ok(Json(super::convert::page(page, sign_in)))
}

pub(crate) fn sign_in(e: &SignInEntry) -> SignInLog {
    SignInLog {
        id: e.id,
        created_date_time: e.created_at.to_rfc3339(),
        tenant_id: e.tenant_id.as_uuid(),
        user_id: e.user_id.map(|u| u.as_uuid()),
        user_principal_name: e.user_principal_name.clone(),
        app_id: e.app_id.clone(),
        app_display_name: e.app_display_name.clone(),
        client_app_used: e.client_app_used.clone(),
        is_interactive: e.kind == SignInKind::InteractiveUser,
        sign_in_event_types: vec![e.kind.as_str().to_owned()],
        status: SignInStatus { error_code: e.error_code, failure_reason: e.failure_reason.clone() },
        mfa_used: e.mfa,
        ip_address: e.ip_address.clone(),
        user_agent: e.user_agent.clone(),
        correlation_id: e.correlation_id.clone(),
    }
}
