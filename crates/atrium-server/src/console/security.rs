//! "Security info": the signed-in user's authenticator app (with its QR code rendered here as
//! SVG) and recovery codes, their passkeys, and for global administrators the tenant's MFA
//! policy. Adding a passkey runs in the browser (`static/passkeys.js` calls the REST API);
//! renaming and removing are plain forms.

use super::{Post, Session, redirect, render, render_status};
use crate::api::mfa::qr_svg;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/security-info", get(show))
        .route("/security-info/totp", post(start))
        .route("/security-info/totp/confirm", post(confirm))
        .route("/security-info/totp/delete", post(delete))
        .route("/security-info/policy", post(set_policy))
        .route("/security-info/passkeys/{id}/rename", post(rename_passkey))
        .route("/security-info/passkeys/{id}/remove", get(confirm_remove_passkey).post(remove_passkey))
}

/// A passkey as the page lists it.
struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
}

fn passkey_row(p: &atrium_core::model::Passkey) -> PasskeyRow {
    PasskeyRow { id: p.id.to_string(), name: p.name.clone(), created: super::when(p.created_at), last_used: p.last_used_at.map_or_else(|| "Never".to_owned(), super::when) }
}

struct Enrolment {
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    csrf: String,
    upn: String,
    tenant_domain: String,
    totp: bool,
    recovery_codes_left: u32,
    must_enrol: bool,
    global_admin: bool,
    policy: bool,
    enrolment: Option<Enrolment>,
    recovery_codes: Vec<String>,
    passkeys: Vec<PasskeyRow>,
    error: Option<String>,
}

async fn page(st: &AppState, s: &Session, enrolment: Option<Enrolment>, recovery_codes: Vec<String>, error: Option<String>) -> Result<SecurityPage, super::Failure> {
    let (user, tenant) = st.services.me(&s.actor).await?;
    let status = st.services.mfa_status(&s.actor).await?;
    let policy = if s.actor.global_admin { st.services.mfa_policy(&s.actor, tenant.id).await.unwrap_or(false) } else { false };
    Ok(SecurityPage {
        csrf: s.csrf.clone(),
        upn: user.upn.to_string(),
        tenant_domain: tenant.domain.to_string(),
        totp: status.totp,
        recovery_codes_left: status.recovery_codes_left,
        must_enrol: status.required && !status.totp,
        global_admin: s.actor.global_admin,
        policy,
        enrolment,
        recovery_codes,
        passkeys: st.services.list_passkeys(&s.actor).await?.iter().map(passkey_row).collect(),
        error,
    })
}

async fn show(State(st): State<AppState>, s: Session) -> Result<Response, super::Failure> {
    Ok(render(&page(&st, &s, None, Vec::new(), None).await?))
}

async fn start(State(st): State<AppState>, Post { s, .. }: Post) -> Result<Response, super::Failure> {
    let e = st.services.start_totp(&s.actor).await?;
    let enrolment = Enrolment { secret: e.secret.expose().to_owned(), qr_svg: qr_svg(e.otpauth_uri.expose()) };
    Ok(render(&page(&st, &s, Some(enrolment), Vec::new(), None).await?))
}

async fn confirm(State(st): State<AppState>, Post { s, f }: Post) -> Result<Response, super::Failure> {
    match st.services.confirm_totp(&s.actor, f.get("code")).await {
        Ok(codes) => Ok(render(&page(&st, &s, None, codes.iter().map(|c| c.expose().to_owned()).collect(), None).await?)),
        Err(e) if e.code.http_status() < 500 => {
            // The set-up is still pending: show it again with the reason.
            let enrolment = st.services.pending_totp(&s.actor).await?.map(|p| Enrolment { secret: p.secret.expose().to_owned(), qr_svg: qr_svg(p.otpauth_uri.expose()) });
            Ok(render_status(StatusCode::BAD_REQUEST, &page(&st, &s, enrolment, Vec::new(), Some(e.message)).await?))
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(State(st): State<AppState>, Post { s, .. }: Post) -> Result<Response, super::Failure> {
    st.services.delete_totp(&s.actor).await?;
    Ok(redirect("/security-info"))
}

async fn set_policy(State(st): State<AppState>, Post { s, f }: Post) -> Result<Response, super::Failure> {
    st.services.set_mfa_policy(&s.actor, s.actor.tenant_id, f.get("require") == "on").await?;
    Ok(redirect("/security-info"))
}

async fn rename_passkey(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> Result<Response, super::Failure> {
    match st.services.rename_passkey(&s.actor, &id, f.get("name")).await {
        Ok(_) => Ok(redirect("/security-info")),
        Err(e) if e.code.http_status() < 500 && e.code != atrium_core::ErrorCode::PasskeyNotFound => {
            Ok(render_status(StatusCode::BAD_REQUEST, &page(&st, &s, None, Vec::new(), Some(e.message)).await?))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "passkey_remove.html")]
struct RemovePasskeyPage {
    csrf: String,
    passkey: PasskeyRow,
}

/// Removing asks first: the passkey stops signing in at once.
async fn confirm_remove_passkey(State(st): State<AppState>, Path(id): Path<String>, s: Session) -> Result<Response, super::Failure> {
    let list = st.services.list_passkeys(&s.actor).await?;
    let p = list
        .iter()
        .find(|p| p.id.to_string() == id.trim().to_ascii_lowercase())
        .ok_or_else(|| atrium_core::Error::new(atrium_core::ErrorCode::PasskeyNotFound).with_target("passkeyId"))?;
    Ok(render(&RemovePasskeyPage { csrf: s.csrf.clone(), passkey: passkey_row(p) }))
}

async fn remove_passkey(State(st): State<AppState>, Path(id): Path<String>, Post { s, .. }: Post) -> Result<Response, super::Failure> {
    st.services.delete_passkey(&s.actor, &id).await?;
    Ok(redirect("/security-info"))
}
