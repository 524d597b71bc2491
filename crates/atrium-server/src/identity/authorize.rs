//! `/{tenant}/oauth2/v2.0/authorize`: the sign-in page of the authorization-code flow.
//!
//! GET checks the request and shows the form; POST signs the user in and redirects back with a
//! code. Problems with the client or its redirect URI are shown here and never redirected: the
//! redirect URI is only trusted once it matches a registered Reply URL exactly.

use super::base_url;
use super::request::{authorize_request, sign_in_credentials};
use super::token::parse_form;
use crate::extract::PeerAddress;
use crate::state::AppState;
use atrium_core::services::mail::html_escape as esc;
use atrium_core::services::identity::{AuthorizeError, Endpoint, OAuthError};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;

const FIELDS: &[&str] = &["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"];

/// The parameters (query or form) and the tenant's endpoint, or the error page to show.
async fn parse(st: &AppState, headers: &HeaderMap, tenant: &str, raw: &[u8]) -> Result<(HashMap<String, String>, Endpoint), Response> {
    let params = parse_form(raw).map_err(|e| error_page(&e))?;
    let ep = st.services.identity_endpoint(tenant, &base_url(st, headers)).await.map_err(|e| error_page(&e))?;
    Ok((params, ep))
}

pub async fn show(State(st): State<AppState>, headers: HeaderMap, Path(tenant): Path<String>, RawQuery(q): RawQuery) -> Response {
    let (params, ep) = match parse(&st, &headers, &tenant, q.unwrap_or_default().as_bytes()).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let req = authorize_request(&params);
    match st.services.authorize_check(&ep, &req).await {
        Ok(app) => sign_in_page(&ep, &tenant, &params, app.display_name.as_str(), params.get("login_hint").map(String::as_str), None),
        Err(e) => authorize_error(&ep, &tenant, &params, e),
    }
}

pub async fn submit(State(st): State<AppState>, headers: HeaderMap, Path(tenant): Path<String>, PeerAddress(source): PeerAddress, body: Bytes) -> Response {
    let form_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_ok {
        return error_page(&OAuthError::malformed("the sign-in form must be posted as application/x-www-form-urlencoded"));
    }
    let (params, mut ep) = match parse(&st, &headers, &tenant, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    // Failed sign-ins are throttled per address.
    ep.source = source;
    let req = authorize_request(&params);
    // A passkey instead of the password (`static/passkeys.js` fills these fields).
    if let Some(ceremony) = params.get("passkey_ceremony").filter(|c| !c.is_empty()) {
        let credential = serde_json::from_str::<serde_json::Value>(params.get("passkey_credential").map(String::as_str).unwrap_or("")).unwrap_or_default();
        let result = match crate::api::passkeys::rp(&st, &headers) {
            Ok(rp) => st.services.authorize_passkey(&ep, &req, &rp, ceremony, &credential).await,
            Err(e) => Err(AuthorizeError::Credentials { message: e.message, app_name: String::new() }),
        };
        return match result {
            Ok(location) => redirect(&location),
            Err(AuthorizeError::Credentials { message, app_name }) => sign_in_page(&ep, &tenant, &params, &app_name, None, Some(&message)),
            Err(e) => authorize_error(&ep, &tenant, &params, e),
        };
    }
    // The second step: the challenge of the password step and a code.
    if let Some(challenge) = params.get("challenge").filter(|c| !c.is_empty()) {
        let code = atrium_core::secret::Secret::new(params.get("otc").map(String::as_str).unwrap_or(""));
        return match st.services.authorize_second_factor(&ep, &req, challenge, &code).await {
            Ok(location) => redirect(&location),
            Err(AuthorizeError::Credentials { message, app_name }) => sign_in_page(&ep, &tenant, &params, &app_name, None, Some(&message)),
            Err(e) => authorize_error(&ep, &tenant, &params, e),
        };
    }
    let (username, password) = sign_in_credentials(&params);
    if username.is_empty() || password.expose().is_empty() {
        let name = match st.services.authorize_check(&ep, &req).await {
            Ok(app) => app.display_name.to_string(),
            Err(e) => return authorize_error(&ep, &tenant, &params, e),
        };
        return sign_in_page(&ep, &tenant, &params, &name, Some(&username), Some("Enter your user name and password."));
    }
    match st.services.authorize_sign_in(&ep, &req, &username, &password).await {
        Ok(location) => redirect(&location),
        // The app's name comes back with the error: no second lookup.
        Err(AuthorizeError::Credentials { message, app_name }) => sign_in_page(&ep, &tenant, &params, &app_name, Some(&username), Some(&message)),
        Err(e) => authorize_error(&ep, &tenant, &params, e),
    }
}

fn authorize_error(ep: &Endpoint, tenant: &str, params: &HashMap<String, String>, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Show(e) => error_page(&e),
        AuthorizeError::SecondFactor { challenge, app_name, message } => code_page(ep, tenant, params, &app_name, &challenge, message.as_deref()),
        AuthorizeError::Redirect(location) => redirect(&location),
        AuthorizeError::Credentials { message, .. } => error_page(&OAuthError::malformed(&message)),
    }
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut res = StatusCode::FOUND.into_response();
            res.headers_mut().insert(header::LOCATION, v);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(_) => error_page(&OAuthError::malformed("the redirect URI cannot be used in a redirect")),
    }
}

pub(crate) const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem 2.5rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:1.5rem;margin:0 0 .25rem}p.app{color:#555;margin:0 0 1.5rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #8a8886;font:inherit}\
input:focus,button:focus{outline:3px solid #2b7bb9;outline-offset:1px}button{margin-top:1.5rem;background:#0f6cbd;color:#fff;border:0;padding:.6rem 2rem;font:inherit;cursor:pointer}\
.error{background:#fde7e9;border-left:4px solid #a4262c;padding:.5rem .75rem;margin:0 0 1rem}\
button.alt{background:#fff;color:#0f6cbd;border:1px solid #0f6cbd}[hidden]{display:none}";

fn sign_in_page(ep: &Endpoint, tenant: &str, params: &HashMap<String, String>, app_name: &str, username: Option<&str>, error: Option<&str>) -> Response {
    let (hidden, err, described) = form_parts(params, error);
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Sign in – {org}</title><style>{STYLE}</style><script src=\"/static/passkeys.js\" defer></script></head><body><main>\
<h1>Sign in</h1><p class=\"app\">to continue to <strong>{app}</strong> · {org}</p>{err}\
<form method=\"post\" action=\"/{tenant_path}/oauth2/v2.0/authorize\">{hidden}\
<label for=\"username\">User name</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{user}\"{described}>\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required{described}>\
<button type=\"submit\">Sign in</button></form>\
<form method=\"post\" action=\"/{tenant_path}/oauth2/v2.0/authorize\" id=\"passkey-form\">{hidden}\
<input type=\"hidden\" name=\"passkey_ceremony\" value=\"\"><input type=\"hidden\" name=\"passkey_credential\" value=\"\">\
<button type=\"button\" class=\"alt\" data-passkey-sign-in data-form=\"passkey-form\" data-tenant=\"{tenant_id}\" hidden>Sign in with a passkey</button>\
<p class=\"error\" role=\"alert\" id=\"passkey-status\" hidden></p></form></main></body></html>",
        org = esc(ep.tenant.display_name.as_str()),
        app = esc(app_name),
        tenant_path = esc(tenant),
        user = esc(username.unwrap_or("")),
        tenant_id = ep.tenant.id,
    );
    form_page(html, error.is_some())
}

/// The second step: the code from the authenticator app (or a recovery code).
fn code_page(ep: &Endpoint, tenant: &str, params: &HashMap<String, String>, app_name: &str, challenge: &str, error: Option<&str>) -> Response {
    let (hidden, err, described) = form_parts(params, error);
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Verify your identity – {org}</title><style>{STYLE}</style></head><body><main>\
<h1>Verify your identity</h1><p class=\"app\">to continue to <strong>{app}</strong> · {org}</p>{err}\
<form method=\"post\" action=\"/{tenant_path}/oauth2/v2.0/authorize\">{hidden}<input type=\"hidden\" name=\"challenge\" value=\"{challenge}\">\
<label for=\"otc\">Enter the code from your authenticator app, or a recovery code</label>\
<input type=\"text\" id=\"otc\" name=\"otc\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required autofocus{described}>\
<button type=\"submit\">Verify</button></form></main></body></html>",
        org = esc(ep.tenant.display_name.as_str()),
        app = esc(app_name),
        tenant_path = esc(tenant),
        challenge = esc(challenge),
    );
    form_page(html, error.is_some())
}

/// What both steps' forms carry: the authorize parameters as hidden fields, the error block,
/// and the attribute tying the inputs to it.
fn form_parts(params: &HashMap<String, String>, error: Option<&str>) -> (String, String, &'static str) {
    let hidden = FIELDS
        .iter()
        .filter_map(|f| params.get(*f).map(|v| format!("<input type=\"hidden\" name=\"{f}\" value=\"{}\">", esc(v))))
        .collect();
    let err = error.map(|m| format!("<p class=\"error\" role=\"alert\" id=\"error\">{}</p>", esc(m))).unwrap_or_default();
    let described = if error.is_some() { " aria-describedby=\"error\"" } else { "" };
    (hidden, err, described)
}

/// A sign-in step's page: 401 when it shows an error, never cached, never framed (clickjacking),
/// and its only script is the passkey file of this origin (`script-src 'self'`, no inline
/// script; `connect-src 'self'` for its calls to the API).
fn form_page(html: String, failed: bool) -> Response {
    let status = if failed { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"));
    res
}

pub(crate) fn error_page(e: &OAuthError) -> Response {
    let correlation = uuid::Uuid::new_v4().to_string();
    let mut e = super::for_reply(e, &correlation);
    if e.status >= 500 {
        e.description = format!("{} Correlation ID: {correlation}", e.description);
    }
    let e = &e;
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title><style>{STYLE}</style></head>\
<body><main><h1>Sorry, we can't sign you in</h1><p class=\"error\" role=\"alert\">{}</p><p>Error code: <code>{}</code></p></main></body></html>",
        esc(&e.to_string()),
        esc(e.error)
    );
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(t) = e.throttled {
        crate::error::retry_after(&mut res, t);
    }
    res
}
