//! The web console at `/`: server-rendered pages (askama) that htmx only enhances.
//!
//! Handlers stay thin: they read a form, call one `Services` method and render the result. Who
//! may do what is decided by the services; a refused call comes back as an error shown next to
//! the field it names (or at the top of the page).
//!
//! Security: the session cookie (Secure, HttpOnly, SameSite=Lax) authenticates; every POST also
//! carries a CSRF token bound to the session (`csrf` = base64url(SHA-256("atrium-csrf:" ||
//! session token))) and must pass the same-origin check. The sign-in form, posted before a
//! session exists, relies on the same-origin check alone.

mod accounts;
mod applications;
mod audit;
mod boxes;
mod grant;
mod groups;
mod history;
mod invitations;
mod members;
mod provisioning;
mod security;
mod signin;
mod sign_ins;
pub(crate) mod subscriptions;
mod tenants;
mod users;

use crate::activity::PendingActivity;
use crate::extract::{SESSION_COOKIE, cookie, same_origin};
use crate::state::AppState;
use askama::Template;
use atrium_core::actor::Actor;
use atrium_core::ids::AccountId;
use atrium_core::secret::{Secret, constant_time_eq, sha256};
use atrium_core::services::{AccountActions, AccountCaller};
use atrium_core::time::Timestamp;
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(static_file))
        .merge(signin::routes())
        .merge(security::routes())
        .merge(accounts::routes())
        .merge(tenants::routes())
        .merge(provisioning::routes())
        .merge(sign_ins::routes())
        .merge(members::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(applications::routes())
        .merge(invitations::routes())
        .merge(history::routes())
        .merge(audit::routes())
        .merge(subscriptions::routes())
}

async fn home(s: Option<Session>) -> Response {
    match s {
        Some(_) => redirect("/accounts"),
        None => redirect("/sign-in"),
    }
}

// ------------------------------------------------------------------ static files

const HTMX: &[u8] = include_bytes!("../../static/htmx.min.js");
const CSS: &[u8] = include_bytes!("../../static/console.css");
const JS: &[u8] = include_bytes!("../../static/console.js");
const PASSKEYS_JS: &[u8] = include_bytes!("../../static/passkeys.js");

/// Appended to static URLs so a new build is never served from an old cache.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        "passkeys.js" => (PASSKEYS_JS, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    res
}

// ------------------------------------------------------------------ sessions and CSRF

/// The signed-in console user. Without a valid session, pages redirect to the sign-in page;
/// with a temporary password, to the password page.
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
}

/// The CSRF token of a session token.
pub fn csrf_token(session_token: &str) -> String {
    let mut input = b"atrium-csrf:".to_vec();
    input.extend_from_slice(session_token.as_bytes());
    URL_SAFE_NO_PAD.encode(sha256(&input))
}

fn cookie_token(parts: &Parts) -> Option<Secret> {
    cookie(&parts.headers, SESSION_COOKIE).filter(|v| !v.is_empty()).map(Secret::new)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_token(parts).ok_or(Failure::Redirect("/sign-in".into()))?;
        let actor = st.services.authenticate(&token).await.map_err(|e| match e.code {
            ErrorCode::Unauthenticated => Failure::Redirect("/sign-in".into()),
            _ => Failure::Error(e),
        })?;
        if actor.must_change_password && parts.uri.path() != "/password" && parts.uri.path() != "/sign-out" {
            return Err(Failure::Redirect("/password".into()));
        }
        // The tenant's policy: a global administrator without an authenticator app sets one
        // up before anything else.
        if actor.global_admin
            && !parts.uri.path().starts_with("/security-info")
            && parts.uri.path() != "/sign-out"
            && st.services.mfa_enrolment_required(&actor).await.map_err(Failure::Error)?
        {
            return Err(Failure::Redirect("/security-info".into()));
        }
        // Account pages count in the activity history like the API's account routes (R12).
        if let Ok(params) = RawPathParams::from_request_parts(parts, st).await
            && let Some((_, raw)) = params.iter().find(|(k, _)| *k == "accountId")
            && let Ok(account) = AccountId::parse(raw, "accountId")
            && let Some(p) = parts.extensions.get::<PendingActivity>()
        {
            let route = crate::activity::visited(parts);
            p.set(account, actor.principal(), st.services.clock().now(), parts.method.as_str(), &route);
        }
        Ok(Session { actor, csrf: csrf_token(token.expose()) })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Session as FromRequestParts<AppState>>::from_request_parts(parts, st).await.ok())
    }
}

/// A posted form: `application/x-www-form-urlencoded`, same origin. Repeated names (checkboxes)
/// keep every value.
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// Whether the form has a field of this name at all (a field left out is left unchanged).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    pub fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

async fn read_form(req: Request, st: &AppState) -> Result<FormData, Failure> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Failure::Error(Error::new(ErrorCode::UnsupportedMediaType).with_message("Forms are posted as application/x-www-form-urlencoded.")));
    }
    let bytes = Bytes::from_request(req, st)
        .await
        .map_err(|_| Failure::Error(Error::new(ErrorCode::PayloadTooLarge)))?;
    Ok(FormData(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
}

fn cross_site() -> Failure {
    Failure::Error(Error::new(ErrorCode::Forbidden).with_message("The form did not come from this site (CSRF check failed). Reload the page and try again."))
}

/// A console POST: a signed-in session, the same origin, and the session's CSRF token.
pub struct Post {
    pub s: Session,
    pub f: FormData,
}

impl FromRequest<AppState> for Post {
    type Rejection = Failure;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        if !same_origin(&parts) {
            return Err(cross_site());
        }
        let s = <Session as FromRequestParts<AppState>>::from_request_parts(&mut parts, st).await?;
        let f = read_form(Request::from_parts(parts, body), st).await?;
        if !constant_time_eq(f.get("csrf").as_bytes(), s.csrf.as_bytes()) {
            return Err(cross_site());
        }
        Ok(Post { s, f })
    }
}

/// A POST without a session (the sign-in form): same origin only.
pub struct AnonymousPost(pub FormData);

impl FromRequest<AppState> for AnonymousPost {
    type Rejection = Failure;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        if !same_origin(&parts) {
            return Err(cross_site());
        }
        Ok(AnonymousPost(read_form(Request::from_parts(parts, body), st).await?))
    }
}

// ------------------------------------------------------------------ rendering and errors

/// What a console handler returns when it cannot render its page.
#[derive(Debug)]
pub enum Failure {
    Redirect(String),
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e.code {
            ErrorCode::Unauthenticated => Failure::Redirect("/sign-in".into()),
            ErrorCode::PasswordChangeRequired => Failure::Redirect("/password".into()),
            _ => Failure::Error(e),
        }
    }
}

pub type PageResult = Result<Response, Failure>;

/// The status of a page that shows a service's error: the error's own (400 for input, 403 for
/// a refusal, 409 for a conflict, 500 for a fault).
pub fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Whether `e` only says "not for you" (403) or "not there" (404). A page may then show less
/// (another tenant's directory details, a hidden list); anything else, such as a database
/// fault, must fail the page instead of showing blank fields.
fn is_refusal(e: &Error) -> bool {
    matches!(e.code.http_status(), 403 | 404)
}

/// A part of a page the caller may legitimately not see: `None` on a refusal (403/404), the
/// console's error page on any other failure.
pub fn optional<T>(r: Result<T, Error>) -> Result<Option<T>, Failure> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_refusal(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Like [`optional`], keeping the refusal so the page can say why the part is hidden.
pub fn refusable<T>(r: Result<T, Error>) -> Result<Result<T, Error>, Failure> {
    match r {
        Err(e) if !is_refusal(&e) => Err(e.into()),
        r => Ok(r),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    code: &'static str,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Redirect(to) => redirect(&to),
            Failure::Error(e) => {
                let message = crate::error::public_message(&e);
                let status = status_of(&e);
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::CONFLICT => "That can't be done",
                    StatusCode::BAD_REQUEST => "Check the request",
                    _ => "Something went wrong",
                };
                let page = ErrorPage { title: title.into(), message, code: e.code.as_str() };
                let mut res = render(&page);
                *res.status_mut() = status;
                res
            }
        }
    }
}

/// Renders a page with the console's headers: never cached (pages carry CSRF tokens and
/// one-time secrets), never framed, scripts only from this origin.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut res = Html(html).into_response();
            let h = res.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered.").into_response()
        }
    }
}

/// A page with a status other than 200 (a form re-shown with errors).
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    let mut res = render(t);
    *res.status_mut() = status;
    res
}

/// 303 See Other: after a POST the browser GETs the target.
pub fn redirect(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Errors of a form: by field (the service's `target`), plus one for the whole form.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    pub fields: Vec<(String, String)>,
    pub general: Option<String>,
}

impl FieldErrors {
    /// Files `e` under its target when the form has such a field, else as a general error.
    /// An error that lists several fields' errors in its details (a form checked as a whole)
    /// files each of them, so every field shows its own at once.
    pub fn from_error(e: &Error, known: &[&str]) -> Self {
        if !e.details.is_empty() && e.details.iter().all(|d| d.target.is_some()) {
            let mut out = FieldErrors::default();
            for d in &e.details {
                let one = Self::one(d, known);
                for (k, v) in one.fields {
                    if !out.has(&k) {
                        out.fields.push((k, v));
                    }
                }
                out.general = out.general.or(one.general);
            }
            return out;
        }
        Self::one(e, known)
    }

    fn one(e: &Error, known: &[&str]) -> Self {
        let message = crate::error::public_message(e);
        let target = e.target.clone().unwrap_or_default();
        // Grant errors name an item inside the grant (`roles[0]`, `permissions[2].level`).
        let target = if target == "grant" || target.starts_with("roles") || target.starts_with("permissions") || e.code == ErrorCode::GrantExceedsYours {
            "grant".to_owned()
        } else {
            target
        };
        if known.contains(&target.as_str()) {
            FieldErrors { fields: vec![(target, message)], general: None }
        } else {
            FieldErrors { fields: Vec::new(), general: Some(message) }
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    pub fn msg(&self, name: &str) -> &str {
        self.field(name).unwrap_or("")
    }

    pub fn any(&self) -> bool {
        self.general.is_some() || !self.fields.is_empty()
    }
}

/// "2026-11-25 18:51 UTC".
pub fn when(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    match s.get(..16) {
        Some(d) => format!("{} UTC", d.replace('T', " ")),
        None => s,
    }
}

// ------------------------------------------------------------------ page chrome

/// What every signed-in page shows around its content.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub user_name: String,
    pub user_upn: String,
    pub tenant_domain: String,
    pub account: Option<AccountNav>,
    /// Which navigation entry is current (`users`, `tenants`, ...).
    pub nav: &'static str,
}

pub struct AccountNav {
    pub id: String,
    pub name: String,
    pub is_owner: bool,
    pub is_manager: bool,
}

impl Layout {
    pub fn is(&self, nav: &str) -> bool {
        self.nav == nav
    }

    pub fn account_id(&self) -> &str {
        self.account.as_ref().map(|a| a.id.as_str()).unwrap_or("")
    }
}

/// The caller of an account page, with everything the chrome and the buttons need.
pub struct AccountCtx {
    pub id: AccountId,
    pub caller: AccountCaller,
    /// What the caller may do on the account's pages: the services' answer, never restated here.
    pub actions: AccountActions,
    pub user: atrium_core::model::User,
    pub tenant: atrium_core::model::Tenant,
    pub csrf: String,
}

impl AccountCtx {
    pub async fn load(st: &AppState, s: &Session, raw_id: &str) -> Result<Self, Failure> {
        let id = AccountId::parse(raw_id, "accountId")?;
        let caller = st.services.get_account(&s.actor, id).await?;
        let (user, tenant) = st.services.me(&s.actor).await?;
        let actions = caller.actions(&tenant);
        Ok(AccountCtx { id, caller, actions, user, tenant, csrf: s.csrf.clone() })
    }

    pub fn layout(&self, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            csrf: self.csrf.clone(),
            user_name: self.user.display_name.to_string(),
            user_upn: self.user.upn.to_string(),
            tenant_domain: self.tenant.domain.to_string(),
            account: Some(AccountNav {
                id: self.id.to_string(),
                name: self.caller.account.name.to_string(),
                is_owner: self.caller.is_owner,
                is_manager: self.caller.is_manager(),
            }),
            nav,
        }
    }

    pub fn base(&self) -> String {
        format!("/accounts/{}", self.id)
    }

    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }

    pub fn program(&self) -> atrium_core::access::Program {
        self.caller.account.program
    }

    /// Why the create buttons (users, groups, applications) are disabled, if they are. The
    /// services refuse these calls anyway; this only explains it before the click (R4, R5).
    pub fn create_blocked(&self) -> Option<String> {
        let e = self.actions.create_in_directory.refusal()?;
        Some(match e.code {
            ErrorCode::DirectorySyncEnabled => format!(
                "{} is synchronized from an on-premises directory: create users, groups and applications there, then add them here.",
                self.tenant.domain
            ),
            ErrorCode::GlobalAdminRequired => "Creating users, groups and applications needs a global administrator signed in through an associated tenant.".into(),
            _ => e.message.clone(),
        })
    }

    /// Why "Invite outside users" is disabled, if it is: like creating users it needs a global
    /// administrator signed in through an associated tenant (R11). Guests are not synchronized
    /// users, so a directory-sync tenant may invite. The service decides; this only explains.
    pub fn invite_blocked(&self) -> Option<String> {
        let e = self.actions.invite.refusal()?;
        Some(match e.code {
            ErrorCode::GlobalAdminRequired => "Inviting outside users needs a global administrator signed in through an associated tenant.".into(),
            _ => e.message.clone(),
        })
    }
}

/// A page number from `?page=` (1-based).
#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<usize>,
}

/// One page of an in-memory list, with the numbers the pager shows.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
}

pub const PAGE_SIZE: usize = 20;

impl Pager {
    pub fn slice<T: Clone>(items: &[T], page: Option<usize>) -> (Vec<T>, Pager) {
        let total = items.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = page.unwrap_or(1).clamp(1, pages);
        let start = (page - 1) * PAGE_SIZE;
        let rows = items.iter().skip(start).take(PAGE_SIZE).cloned().collect();
        (rows, Pager { page, pages, total })
    }

    pub fn prev(&self) -> usize {
        self.page.saturating_sub(1)
    }

    pub fn next(&self) -> usize {
        self.page + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn page(f: Failure) -> (StatusCode, String) {
        let res = f.into_response();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_refused_part_is_hidden_but_a_fault_is_the_error_page() {
        // Another tenant's directory details: the page shows less.
        assert!(optional::<()>(Err(ErrorCode::Forbidden.into())).unwrap().is_none());
        assert!(optional::<()>(Err(ErrorCode::UserNotFound.into())).unwrap().is_none());
        assert_eq!(refusable::<()>(Err(ErrorCode::WrongTenant.into())).unwrap().unwrap_err().code, ErrorCode::WrongTenant);
        // A database fault is not "nothing to show": the console's error page, 500, with a
        // clear message and without the fault's details.
        let Err(f) = optional::<()>(Err(Error::internal("connection reset by peer"))) else { panic!("a fault must fail the page") };
        let (status, html) = page(f).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(html.contains("Something went wrong") && html.contains(ErrorCode::Internal.default_message()), "{html}");
        assert!(!html.contains("connection reset"), "{html}");
        let Err(f) = refusable::<()>(Err(ErrorCode::Unavailable.into())) else { panic!("a fault must fail the page") };
        assert_eq!(page(f).await.0, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_refused_form_keeps_the_services_status() {
        assert_eq!(status_of(&ErrorCode::GlobalAdminRequired.into()), StatusCode::FORBIDDEN);
        assert_eq!(status_of(&ErrorCode::DirectorySyncEnabled.into()), StatusCode::CONFLICT);
        assert_eq!(status_of(&ErrorCode::InvalidUpn.into()), StatusCode::BAD_REQUEST);
    }
}
