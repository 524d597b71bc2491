//! The mail outbox: each mail's delivery status (instance administrators). Bodies are never
//! returned: an invitation mail carries its redemption link.

use super::invitations::mail_status;
use crate::error::ApiResult;
use crate::extract::Authenticated;
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_mail)).routes(routes!(get_mail))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MailQuery {
    /// `queued` (or `not_sent`, its name without a mail server), `sending`, `sent`, `dead` or
    /// `cancelled` (its invitation was revoked or resent, or its tenant removed, before it went out).
    #[param(inline, value_type = Option<MailStatusFilter>)]
    status: Option<String>,
    /// Only the mails of this invitation.
    #[param(value_type = Option<uuid::Uuid>)]
    invitation_id: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The statuses `?status=` takes (the service parses the text; this is its documentation).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum MailStatusFilter {
    Queued,
    NotSent,
    Sending,
    Sent,
    Dead,
    Cancelled,
}

/// The outbox, newest first.
#[utoipa::path(get, path = "/api/v1/mail", tag = "mail", security(("bearer" = [])), params(MailQuery),
    responses((status = 200, body = Vec<api::MailStatusBody>), (status = 403, body = ErrorResponse)))]
async fn list_mail(State(st): State<AppState>, Authenticated(actor): Authenticated, super::ApiQuery(q): super::ApiQuery<MailQuery>) -> ApiResult<Json<Vec<api::MailStatusBody>>> {
    let list = st.services.list_mail(&actor, q.invitation_id.as_deref(), q.status.as_deref(), q.limit.unwrap_or(50)).await?;
    Ok(Json(list.iter().map(|m| mail_status(&st.services, m)).collect()))
}

#[utoipa::path(get, path = "/api/v1/mail/{mailId}", tag = "mail", security(("bearer" = [])), params(("mailId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::MailStatusBody), (status = 404, body = ErrorResponse)))]
async fn get_mail(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<api::MailStatusBody>> {
    Ok(Json(mail_status(&st.services, &st.services.get_mail(&actor, &id).await?)))
}
