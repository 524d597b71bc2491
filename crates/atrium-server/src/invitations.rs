//! The page an invited guest opens from the mail: `/invitations/redeem?token=…`.
//!
//! The link is the credential, so there is no sign-in: GET shows who is invited where and asks
//! for a password; POST redeems the link once. The token sits in the URL, so the pages send no
//! Referer and are never cached.

use crate::identity::authorize::STYLE;
use crate::identity::token::parse_form;
use crate::state::AppState;
use atrium_core::secret::Secret;
use atrium_core::services::RedemptionView;
use atrium_core::services::mail::html_escape as esc;
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/invitations/redeem", get(show).post(submit))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        t = esc(title)
    );
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"));
    res
}

fn error_page(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = format!(
        "<h1>This invitation link can't be used</h1><p class=\"error\" role=\"alert\">{}</p><p>Error code: <code>{}</code></p>",
        esc(&e.message),
        esc(e.code.as_str())
    );
    page(status, "Invitation", &body)
}

fn form(v: &RedemptionView, token: &str, error: Option<&Error>) -> Response {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\" id=\"error\">{}</p>", esc(&e.message))).unwrap_or_default();
    let described = if error.is_some() { " aria-describedby=\"error\"" } else { "" };
    let body = format!(
        "<h1>Accept your invitation</h1><p class=\"app\">You were invited to <strong>{org}</strong> as <strong>{email}</strong>.</p>{err}\
<form method=\"post\" action=\"/invitations/redeem\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
<label for=\"password\">Choose a password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" required minlength=\"8\"{described}>\
<label for=\"confirm\">Confirm the password</label><input type=\"password\" id=\"confirm\" name=\"confirm\" autocomplete=\"new-password\" required minlength=\"8\"{described}>\
<p class=\"app\">At least 8 characters with 3 of: upper case, lower case, digits, symbols.</p>\
<button type=\"submit\">Accept invitation</button></form>",
        org = esc(v.tenant.display_name.as_str()),
        email = esc(v.invitation.email.as_str()),
        token = esc(token),
    );
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, "Accept your invitation", &body)
}

async fn show(State(st): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let token = q.get("token").cloned().unwrap_or_default();
    match st.services.invitation_for_redemption(&Secret::new(token.clone())).await {
        Ok(v) => form(&v, &token, None),
        Err(e) => error_page(&e),
    }
}

async fn submit(State(st): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // The form carries its own credential (the token), but a cross-site page must still not be
    // able to redeem a link it learnt on the guest's behalf.
    if !crate::extract::same_origin(&parts) {
        return error_page(&Error::new(ErrorCode::Forbidden).with_message("Cross-site request refused."));
    }
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024).await else {
        return error_page(&Error::new(ErrorCode::PayloadTooLarge));
    };
    let bytes: Bytes = bytes;
    let Ok(params) = parse_form(&bytes) else {
        return error_page(&Error::new(ErrorCode::InvalidRequest).with_message("The form could not be read."));
    };
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let token = Secret::new(get("token"));
    let view = match st.services.invitation_for_redemption(&token).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    if get("password") != get("confirm") {
        let e = Error::new(ErrorCode::InvalidRequest).with_message("The passwords do not match.").with_target("confirm");
        return form(&view, token.expose(), Some(&e));
    }
    match st.services.redeem_invitation(&token, &get("password")).await {
        Ok(v) => match v.invitation.redirect_url.as_deref() {
            // A registered-style URL chosen by the inviter (checked like a Reply URL).
            Some(url) => Redirect::to(url).into_response(),
            None => page(
                StatusCode::OK,
                "Invitation accepted",
                &format!(
                    "<h1>You're all set</h1><p>You can now sign in to <strong>{}</strong> with <strong>{}</strong> and the password you chose.</p><p><a href=\"/\">Go to sign-in</a></p>",
                    esc(v.tenant.display_name.as_str()),
                    esc(v.invitation.email.as_str())
                ),
            ),
        },
        Err(e) if e.code == ErrorCode::WeakPassword || e.code == ErrorCode::InvalidRequest => form(&view, token.expose(), Some(&e)),
        Err(e) => error_page(&e),
    }
}
