//! The page an invited guest opens from the mail: `/invitations/redeem?token=…`.
//!
//! The link is the credential, so there is no sign-in: GET shows who is invited where and asks
//! for a password; POST redeems the link once. The token sits in the URL, so the pages send no
//! Referer and are never cached.

use crate::console::FieldErrors;
use crate::identity::token::parse_form;
use crate::state::AppState;
use askama::Template;
use atrium_core::secret::Secret;
use atrium_core::services::RedemptionView;
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

/// The form: who is invited where, and the token carried to the POST.
struct FormView {
    org: String,
    domain: String,
    email: String,
    token: String,
}

/// The success page.
struct DoneView {
    org: String,
    domain: String,
    email: String,
}

/// One template for the three states (form, accepted, refused link), in the console's look.
#[derive(Template)]
#[template(path = "invitation_redeem.html")]
struct RedeemPage {
    title: &'static str,
    form: Option<FormView>,
    done: Option<DoneView>,
    errors: FieldErrors,
    message: String,
    code: &'static str,
}

impl RedeemPage {
    fn new(title: &'static str) -> Self {
        RedeemPage { title, form: None, done: None, errors: FieldErrors::default(), message: String::new(), code: "" }
    }
}

/// The token sits in the URL: no Referer (not even to our own stylesheet), never cached, never
/// framed, styles from this origin only and no scripts at all.
fn page(status: StatusCode, p: &RedeemPage) -> Response {
    let mut res = match p.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.").into_response()
        }
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    res
}

pub(crate) fn error_page(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let message = crate::error::public_message(e);
    page(status, &RedeemPage { message, code: e.code.as_str(), ..RedeemPage::new("Invitation") })
}

fn form(v: &RedemptionView, token: &str, error: Option<&Error>) -> Response {
    let errors = error.map(|e| FieldErrors::from_error(e, &["password", "confirm"])).unwrap_or_default();
    let form = FormView {
        org: v.tenant.display_name.to_string(),
        domain: v.tenant.domain.to_string(),
        email: v.invitation.email.to_string(),
        token: token.to_owned(),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, &RedeemPage { form: Some(form), errors, ..RedeemPage::new("Accept your invitation") })
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
                &RedeemPage {
                    done: Some(DoneView { org: v.tenant.display_name.to_string(), domain: v.tenant.domain.to_string(), email: v.invitation.email.to_string() }),
                    ..RedeemPage::new("Invitation accepted")
                },
            ),
        },
        Err(e) if e.code == ErrorCode::WeakPassword || e.code == ErrorCode::InvalidRequest => form(&view, token.expose(), Some(&e)),
        Err(e) => error_page(&e),
    }
}
