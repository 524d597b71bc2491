//! "Invite outside users" (seed 002, R11): invitations of an account, resend and revoke. The
//! redemption page the guest opens is in `crate::invitations`.

use super::accounts::{AccountActor, grant_input};
use crate::error::ApiResult;
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use atrium_core::model::{Invitation, Mail};
use atrium_core::services::{InvitationView, InviteGuests, Services};
use atrium_core::time::Timestamp;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, invite))
        .routes(routes!(get_invitation))
        .routes(routes!(resend))
        .routes(routes!(revoke))
}

/// A mail's state as the service words it: "not_sent" rather than "queued" without a mail server.
pub(crate) fn mail_status(services: &Services, m: &Mail) -> api::MailStatusBody {
    let state = services.mail_state(m);
    api::MailStatusBody {
        id: m.id.as_uuid(),
        to: m.to.to_string(),
        subject: m.subject.clone(),
        status: state.status.to_owned(),
        summary: state.summary,
        attempts: m.attempts,
        next_attempt_at: m.next_attempt_at.to_rfc3339(),
        last_error: m.last_error.clone(),
        created_at: m.created_at.to_rfc3339(),
        sent_at: m.sent_at.map(Timestamp::to_rfc3339),
        invitation_id: m.invitation_id.map(|i| i.as_uuid()),
    }
}

fn invitation(services: &Services, i: &Invitation, expired: bool, mail: Option<&Mail>) -> api::Invitation {
    api::Invitation {
        id: i.id.as_uuid(),
        email: i.email.to_string(),
        status: if expired { "expired".into() } else { i.status.as_str().to_owned() },
        user_id: i.user_id.as_uuid(),
        tenant_id: i.tenant_id.as_uuid(),
        invite_redirect_url: i.redirect_url.clone(),
        resend_count: i.resend_count,
        created_at: i.created_at.to_rfc3339(),
        expires_at: i.expires_at.map(Timestamp::to_rfc3339),
        accepted_at: i.accepted_at.map(Timestamp::to_rfc3339),
        mail: mail.map(|m| mail_status(services, m)),
    }
}

fn view(services: &Services, v: &InvitationView) -> api::Invitation {
    invitation(services, &v.invitation, v.expired, v.mail.as_ref())
}

/// Invites 1–10 outside users (global admin of the tenant you signed in through). Each gets a
/// guest user shown as "Invitation pending", the grant, and a mail with a single-use link. One
/// bad address refuses the whole request; `error.details` lists every bad address.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::InviteRequest,
    responses((status = 201, body = api::InvitationList), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn invite(State(st): State<AppState>, headers: HeaderMap, c: AccountActor, crate::extract::ApiJson(req): crate::extract::ApiJson<api::InviteRequest>) -> ApiResult<(StatusCode, Json<api::InvitationList>)> {
    let input = InviteGuests { emails: req.emails.into_vec(), display_name: None, message: req.message, redirect_url: req.invite_redirect_url, send_message: true };
    let base = crate::identity::base_url(&st, &headers);
    let sent = st.services.invite_guests(&c.actor, c.account, input, &grant_input(req.grant), &base).await?;
    // The redemption links are in the mails only: whoever invites never sees the guest's
    // credential. The mail's state says whether it was sent at all.
    let value = sent.iter().map(|s| invitation(&st.services, &s.invitation, false, s.mail.as_ref())).collect();
    Ok((StatusCode::CREATED, Json(api::InvitationList { value })))
}

/// The account's invitations, newest first, with the status of each one's newest mail.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = api::InvitationList), (status = 403, body = ErrorResponse)))]
async fn list_invitations(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<api::InvitationList>> {
    let list = st.services.list_invitations(&c.actor, c.account).await?;
    Ok(Json(api::InvitationList { value: list.iter().map(|v| view(&st.services, v)).collect() }))
}

#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/invitations/{invitationId}", tag = "invitations", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("invitationId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::Invitation), (status = 404, body = ErrorResponse)))]
async fn get_invitation(State(st): State<AppState>, c: AccountActor, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<api::Invitation>> {
    Ok(Json(view(&st.services, &st.services.get_invitation(&c.actor, c.account, &id).await?)))
}

/// "Resend invitation": a new link and mail; the previous link stops working.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/invitations/{invitationId}/resend", tag = "invitations", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("invitationId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::Invitation), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn resend(State(st): State<AppState>, headers: HeaderMap, c: AccountActor, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<api::Invitation>> {
    let base = crate::identity::base_url(&st, &headers);
    let s = st.services.resend_invitation(&c.actor, c.account, &id, &base).await?;
    Ok(Json(invitation(&st.services, &s.invitation, false, s.mail.as_ref())))
}

/// Revokes a pending invitation: the link stops working and the guest, who never signed in, is
/// deleted with its access.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/invitations/{invitationId}/revoke", tag = "invitations", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("invitationId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::Invitation), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn revoke(State(st): State<AppState>, c: AccountActor, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<api::Invitation>> {
    let i = st.services.revoke_invitation(&c.actor, c.account, &id).await?;
    Ok(Json(invitation(&st.services, &i, false, None)))
}
