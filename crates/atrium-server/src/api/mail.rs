//! The mail outbox: each mail's delivery status (instance administrators). Bodies are never
//! returned: an invitation mail carries its redemption link.

use super::invitations::mail_status;
use crate::error::ApiResult;
use crate::extract::Authenticated;
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_mail)).routes(routes!(get_mail))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MailQuery {
    /// `queued` (or `not_sent`, its name without a mail server), `sending`, `sent` or `dead`.
    status: Option<String>,
    invitation_id: Option<String>,
    /// 1 to 200 (default 50).
    limit: Option<u32>,
}

/// The outbox, newest first.
#[utoipa::path(get, path = "/api/v1/mail", tag = "mail", security(("bearer" = [])), params(MailQuery),
    responses((status = 200, body = Vec<api::MailStatusBody>), (status = 403, body = ErrorResponse)))]
async fn list_mail(State(st): State<AppState>, Authenticated(actor): Authenticated, Query(q): Query<MailQuery>) -> ApiResult<Json<Vec<api::MailStatusBody>>> {
    let list = st.services.list_mail(&actor, q.invitation_id.as_deref(), q.status.as_deref(), q.limit.unwrap_or(50)).await?;
    Ok(Json(list.iter().map(|m| mail_status(&st.services, m)).collect()))
}

#[utoipa::path(get, path = "/api/v1/mail/{mailId}", tag = "mail", security(("bearer" = [])), params(("mailId" = String, Path)),
    responses((status = 200, body = api::MailStatusBody), (status = 404, body = ErrorResponse)))]
async fn get_mail(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<api::MailStatusBody>> {
    Ok(Json(mail_status(&st.services, &st.services.get_mail(&actor, &id).await?)))
}
