//! Microsoft Graph–shaped endpoints under `/v1.0`, for clients written against Graph.
//! So far: `POST /v1.0/invitations` (microsoft.graph.invitation). Errors use Graph's shape,
//! `{"error":{"code","message","innerError"}}`, with the same words as the REST API.

use crate::extract::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;
use atrium_api_types::GraphInvitationRequest;
use atrium_core::services::InviteGuests;
use atrium_core::{Error, ErrorCode};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1.0/invitations", post(create_invitation))
}

/// Graph's error codes for our statuses.
fn graph_code(e: &Error) -> &'static str {
    match e.code.http_status() {
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        409 => "Request_BadRequest",
        429 => "TooManyRequests",
        s if s >= 500 => "generalException",
        _ => "BadRequest",
    }
}

pub(crate) fn graph_error(st: &AppState, e: Error, headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = graph_code(&e);
    let throttled = e.throttled;
    let body = crate::error::error_body(e);
    let mut inner = json!({ "code": body.code, "date": st.services.clock().now().to_rfc3339() });
    if let Some(id) = headers.get("client-request-id").and_then(|v| v.to_str().ok()) {
        inner["client-request-id"] = json!(id);
    }
    let mut error = json!({ "code": code, "message": body.message, "innerError": inner });
    if let Some(t) = body.target {
        error["target"] = json!(t);
    }
    if !body.details.is_empty() {
        error["details"] = json!(body.details.iter().map(|d| json!({"code": d.code, "message": d.message, "target": d.target})).collect::<Vec<_>>());
    }
    let mut res = (status, Json(json!({ "error": error }))).into_response();
    if let Some(t) = throttled {
        crate::error::retry_after(&mut res, t);
    }
    res
}

/// `POST /v1.0/invitations`: invites a guest into the caller's tenant (global administrator).
async fn create_invitation(State(st): State<AppState>, headers: HeaderMap, auth: Result<Authenticated, ApiError>, body: Bytes) -> Response {
    let actor = match auth {
        Ok(Authenticated(a)) => a,
        Err(ApiError(e)) => return graph_error(&st, e, &headers),
    };
    // Strict JSON, as on the REST API: the error names the field.
    let req: GraphInvitationRequest = match crate::extract::parse_json(&body) {
        Ok(r) => r,
        Err(e) => return graph_error(&st, e, &headers),
    };
    if req.invited_user_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("guest")) {
        return graph_error(&st, Error::new(ErrorCode::InvalidRequest).with_message("Only invitedUserType Guest is supported.").with_target("invitedUserType"), &headers);
    }
    if req.invite_redirect_url.trim().is_empty() {
        return graph_error(&st, Error::new(ErrorCode::MissingField).with_message("inviteRedirectUrl is required.").with_target("inviteRedirectUrl"), &headers);
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
    let base = crate::identity::base_url(&st, &headers);
    match st.services.invite_guest_to_tenant(&actor, input, &base).await {
        Ok(s) => (
            StatusCode::CREATED,
            Json(json!({
                "@odata.context": format!("{base}/v1.0/$metadata#invitations/$entity"),
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
            .into_response(),
        Err(e) => graph_error(&st, e, &headers),
    }
}
