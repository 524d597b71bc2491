//! Sign-in (choose or type the tenant), the must-change-password page, and sign-out.

use super::{AnonymousPost, Failure, FieldErrors, PageResult, Post, Session, optional, redirect, render, render_status, status_of};
use crate::api::auth::cookie;
use crate::extract::PeerAddress;
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::PERSONAL_ACCOUNTS_TENANT;
use atrium_core::secret::Secret;
use atrium_core::services::{SignIn, SignInStep, SignedIn};
use atrium_core::{Error, ErrorCode};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

/// Tenants signed in to from this browser, for the tenant list (not a secret: domains only).
const RECENT_COOKIE: &str = "atrium_tenants";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(show).post(submit))
        .route("/password", get(password_page).post(change_password))
        .route("/sign-out", post(sign_out))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    tenant: String,
    username: String,
    known_tenants: Vec<String>,
    errors: FieldErrors,
}

fn recent(headers: &HeaderMap) -> Vec<String> {
    crate::extract::cookie(headers, RECENT_COOKIE)
        .map(|v| v.split('|').filter(|d| !d.is_empty() && d.len() <= 253).map(str::to_owned).take(5).collect())
        .unwrap_or_default()
}

async fn known_tenants(st: &AppState, headers: &HeaderMap) -> Result<Vec<String>, Failure> {
    let mut list = recent(headers);
    // The personal-accounts tenant is offered when it exists; a fault fails the page.
    if let Some(t) = optional(st.services.resolve_tenant(&PERSONAL_ACCOUNTS_TENANT.to_string()).await)? {
        let d = t.domain.to_string();
        if !list.contains(&d) {
            list.push(d);
        }
    }
    Ok(list)
}

async fn show(State(st): State<AppState>, headers: HeaderMap) -> PageResult {
    let known = known_tenants(&st, &headers).await?;
    let tenant = known.first().cloned().unwrap_or_default();
    Ok(render(&SignInPage { tenant, username: String::new(), known_tenants: known, errors: FieldErrors::default() }))
}

async fn submit(State(st): State<AppState>, headers: HeaderMap, PeerAddress(source): PeerAddress, AnonymousPost(f): AnonymousPost) -> PageResult {
    if !f.get("challenge").is_empty() {
        return submit_code(&st, &headers, &f).await;
    }
    if !f.get("passkey_ceremony").is_empty() {
        return submit_passkey(&st, &headers, &f).await;
    }
    let tenant = f.get("tenant").trim().to_owned();
    let username = f.get("username").trim().to_owned();
    let mut missing = FieldErrors::default();
    for (name, label) in [("tenant", "tenant"), ("username", "user name"), ("password", "password")] {
        if f.get(name).trim().is_empty() {
            missing.fields.push((name.to_owned(), format!("Enter your {label}.")));
        }
    }
    let mut throttled = None;
    let result = if missing.any() {
        Err((StatusCode::BAD_REQUEST, missing))
    } else {
        st.services
            .begin_sign_in(SignIn { tenant: tenant.clone(), username: username.clone(), password: Secret::new(f.get("password")), otp: None, source })
            .await
            .map_err(|e| {
                // Too many failed sign-ins from this address: 429 with Retry-After.
                if let Some(t) = e.throttled {
                    throttled = Some(t);
                    return (StatusCode::TOO_MANY_REQUESTS, FieldErrors::from_error(&e, &[]));
                }
                // Unknown tenants are named at the tenant field; wrong credentials stay vague.
                let e = if e.code == ErrorCode::TenantNotFound { e.with_target("tenant") } else { e };
                let errors = FieldErrors::from_error(&e, &["tenant"]);
                // A fault is the server's (5xx), not the credentials'.
                let status = if e.code.http_status() >= 500 {
                    status_of(&e)
                } else if errors.general.is_some() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                };
                (status, errors)
            })
    };
    match result {
        Ok(SignInStep::Done(signed)) => Ok(signed_in(&st, &headers, &signed)),
        Ok(SignInStep::SecondFactor { challenge }) => Ok(render(&CodePage { challenge: challenge.expose().to_owned(), error: None })),
        Err((status, errors)) => {
            let mut res = render_status(status, &SignInPage { tenant, username, known_tenants: known_tenants(&st, &headers).await?, errors });
            if let Some(t) = throttled {
                crate::error::retry_after(&mut res, t);
            }
            Ok(res)
        }
    }
}

/// The second step: a code for the challenge of the password step.
#[derive(Template)]
#[template(path = "signin_code.html")]
struct CodePage {
    challenge: String,
    error: Option<String>,
}

async fn submit_code(st: &AppState, headers: &HeaderMap, f: &super::FormData) -> PageResult {
    let challenge = f.get("challenge");
    if f.get("otp").trim().is_empty() {
        return Ok(render_status(StatusCode::BAD_REQUEST, &CodePage { challenge: challenge.to_owned(), error: Some("Enter the code.".into()) }));
    }
    match st.services.finish_sign_in(challenge, &Secret::new(f.get("otp"))).await {
        Ok(signed) => Ok(signed_in(st, headers, &signed)),
        Err(e) if e.code == ErrorCode::InvalidMfaCode => Ok(render_status(
            StatusCode::UNAUTHORIZED,
            &CodePage { challenge: challenge.to_owned(), error: Some("That code is incorrect, has expired or was already used. Try the current code.".into()) },
        )),
        Err(e) if e.code.http_status() < 500 => {
            let errors = FieldErrors::from_error(&e, &[]);
            Ok(render_status(StatusCode::UNAUTHORIZED, &SignInPage { tenant: String::new(), username: String::new(), known_tenants: known_tenants(st, headers).await?, errors }))
        }
        Err(e) => Err(e.into()),
    }
}

/// A passkey sign-in (`static/passkeys.js` fills the form): the same session as a password.
async fn submit_passkey(st: &AppState, headers: &HeaderMap, f: &super::FormData) -> PageResult {
    let result = match (crate::api::passkeys::rp(st, headers), serde_json::from_str::<serde_json::Value>(f.get("passkey_credential"))) {
        (Err(e), _) => Err(e),
        (_, Err(_)) => Err(Error::new(ErrorCode::InvalidPasskey)),
        (Ok(rp), Ok(credential)) => st.services.passkey_sign_in(&rp, f.get("passkey_ceremony"), &credential).await,
    };
    match result {
        Ok(signed) => Ok(signed_in(st, headers, &signed)),
        Err(e) if e.code.http_status() < 500 => {
            let message = match e.code {
                ErrorCode::PasskeyCeremonyNotFound => "The passkey sign-in took too long. Try again.".to_owned(),
                ErrorCode::InvalidPasskey | ErrorCode::PasskeyRejected => "That passkey could not be verified, or it is not registered here.".to_owned(),
                _ => e.message.clone(),
            };
            let errors = FieldErrors { general: Some(message), ..FieldErrors::default() };
            Ok(render_status(StatusCode::UNAUTHORIZED, &SignInPage { tenant: String::new(), username: String::new(), known_tenants: known_tenants(st, headers).await?, errors }))
        }
        Err(e) => Err(e.into()),
    }
}

/// The session cookie and the recent-tenants cookie, then on to the console.
fn signed_in(st: &AppState, headers: &HeaderMap, signed: &SignedIn) -> Response {
    let mut res = redirect(if signed.user.must_change_password { "/password" } else { "/accounts" });
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, cookie(signed.token.expose(), st.session_seconds));
    let first = signed.tenant.domain.to_string();
    let mut domains: Vec<String> = recent(headers).into_iter().filter(|d| *d != first).take(4).collect();
    domains.insert(0, first);
    if let Ok(v) = HeaderValue::from_str(&format!("{RECENT_COOKIE}={}; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax", domains.join("|"))) {
        h.append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    upn: String,
    forced: bool,
    errors: FieldErrors,
}

async fn password_page(State(st): State<AppState>, s: Session) -> Result<Response, super::Failure> {
    let (user, _) = st.services.me(&s.actor).await?;
    Ok(render(&PasswordPage { csrf: s.csrf, upn: user.upn.to_string(), forced: s.actor.must_change_password, errors: FieldErrors::default() }))
}

async fn change_password(State(st): State<AppState>, Post { s, f }: Post) -> Result<Response, super::Failure> {
    let result = if f.get("new") != f.get("confirm") {
        Err(Error::new(ErrorCode::InvalidRequest).with_message("The two new passwords differ.").with_target("confirm"))
    } else {
        st.services.change_password(&s.actor, &Secret::new(f.get("current")), f.get("new")).await.map_err(|e| match e.code {
            ErrorCode::InvalidCredentials => e.with_message("The current password is incorrect.").with_target("current"),
            ErrorCode::WeakPassword => e.with_target("new"),
            _ => e,
        })
    };
    match result {
        Ok(()) => Ok(redirect("/accounts")),
        Err(e) => {
            let (user, _) = st.services.me(&s.actor).await?;
            let errors = FieldErrors::from_error(&e, &["current", "new", "confirm"]);
            Ok(render_status(StatusCode::BAD_REQUEST, &PasswordPage { csrf: s.csrf, upn: user.upn.to_string(), forced: s.actor.must_change_password, errors }))
        }
    }
}

async fn sign_out(State(st): State<AppState>, Post { s, .. }: Post) -> Response {
    // Ending the session is best effort: the cookie is cleared either way.
    if let Err(e) = st.services.sign_out(&s.actor).await {
        tracing::warn!(error = %e, "sign-out failed");
    }
    let mut res = redirect("/sign-in");
    res.headers_mut().append(header::SET_COOKIE, cookie("", 0));
    res
}
