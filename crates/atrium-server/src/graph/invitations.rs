//! `POST /v1.0/invitations` (microsoft.graph.invitation): invites a guest into the caller's
//! tenant. Needs User.Invite.All (or a global administrator's session or delegated token).

use super::error::{GraphError, GraphResult};
use super::{Caller, Ctx};
use crate::state::AppState;
use atrium_api_types::GraphInvitationRequest;
use atrium_core::services::InviteGuests;
use atrium_core::{Error, ErrorCode};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1.0/invitations", post(create_invitation))
}

async fn create_invitation(State(st): State<AppState>, ctx: Ctx, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let req: GraphInvitationRequest = super::body(&body)?;
    if req.invited_user_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("guest")) {
        return Err(Error::new(ErrorCode::InvalidRequest).with_message("Only invitedUserType Guest is supported.").with_target("invitedUserType").into());
    }
    if req.invite_redirect_url.trim().is_empty() {
        return Err(Error::new(ErrorCode::MissingField).with_message("inviteRedirectUrl is required.").with_target("inviteRedirectUrl").into());
    }
    let send = req.send_invitation_message.unwrap_or(false);
    let message = req.invited_user_message_info.as_ref().and_then(|m| m.customized_message_body.clone());
    let input = InviteGuests {
        emails: vec![req.invited_user_email_address.clone()],
        display_name: req.invited_user_display_name.clone(),
        message: message.clone(),
        redirect_url: Some(req.invite_redirect_url.clone()),
        send_message: send,
    };
    let s = st.services.invite_guest_to_tenant(&actor, input, &ctx.base).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "@odata.context": ctx.context("invitations/$entity"),
            "id": s.invitation.id.as_uuid(),
            "inviteRedeemUrl": s.redeem_url.expose(),
            "invitedUserDisplayName": s.user.display_name.as_str(),
            "invitedUserEmailAddress": s.invitation.email.as_str(),
            "invitedUserType": "Guest",
            "inviteRedirectUrl": s.invitation.redirect_url,
            "sendInvitationMessage": send,
            "resetRedemption": false,
            "invitedUserMessageInfo": { "customizedMessageBody": message, "messageLanguage": null, "ccRecipients": [] },
            "status": "PendingAcceptance",
            "invitedUser": { "id": s.user.id.as_uuid() },
        })),
    )
        .into_response())
}
