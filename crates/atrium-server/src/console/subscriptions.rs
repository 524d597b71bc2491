//! Subscriptions (seed 003): the owner's list, create and show pages, disable/enable behind a
//! confirmation; step 1 "Use existing directory" (the consent code, shown once); step 2 the
//! directory's global administrator enters the code, reviews and selects Continue; step 3
//! "Change the associated directory" and its confirm page; step 4 the Administrators tab; step 5
//! the account's "Web storefront deployment" page with its Subscription drop-down.
//!
//! Every handler calls the subscription services; they decide who may do what.

use super::{AccountCtx, Failure, FieldErrors, Layout, PageResult, Post, Session, redirect, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::{PERSONAL_ACCOUNTS_TENANT, SubscriptionId, UserId};
use atrium_core::model::{SubscriptionState, Tenant, User};
use atrium_core::secret::Secret;
use atrium_core::services::{DirectoryChange, DirectoryConsent, SubscriptionRole, SubscriptionView, parse_directory};
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        // GET of these two paths is shared with ARM: `crate::arm` hands browsers to `list` and `show`.
        .route("/subscriptions", post(create))
        .route("/subscriptions/{subscriptionId}/disable", get(state_confirm).post(set_state))
        .route("/subscriptions/{subscriptionId}/enable", get(state_confirm).post(set_state))
        .route("/subscriptions/{subscriptionId}/use-directory", get(use_directory_form).post(use_directory))
        .route("/subscriptions/{subscriptionId}/directory", get(change_form))
        .route("/subscriptions/{subscriptionId}/directory/confirm", get(change_confirm).post(change))
        .route("/subscriptions/{subscriptionId}/administrators", get(admins).post(add_admin))
        .route("/subscriptions/{subscriptionId}/administrators/{userId}/remove", get(remove_admin_confirm).post(remove_admin))
        .route("/directory-consent", get(consent_form))
        .route("/directory-consent/review", post(consent_review))
        .route("/directory-consent/continue", post(consent))
        .route("/accounts/{accountId}/deployment", get(deployment))
}

// ------------------------------------------------------------------ shared

/// The chrome of the pages outside an account (subscriptions, directory consent).
async fn layout(st: &AppState, s: &Session, title: impl Into<String>, nav: &'static str) -> Result<Layout, Failure> {
    let (user, tenant) = st.services.me(&s.actor).await?;
    Ok(Layout {
        title: title.into(),
        csrf: s.csrf.clone(),
        user_name: user.display_name.to_string(),
        user_upn: user.upn.to_string(),
        tenant_domain: tenant.domain.to_string(),
        account: None,
        nav,
    })
}

fn sub_id(raw: &str) -> Result<SubscriptionId, Error> {
    SubscriptionId::parse(raw, "subscriptionId")
}

/// A subscription as the pages show it.
#[derive(Clone)]
pub struct SubRow {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub state: &'static str,
    pub directory: String,
    pub directory_name: String,
    pub directory_id: String,
    pub role: &'static str,
    pub is_owner: bool,
    pub created: String,
}

fn sub_row(v: &SubscriptionView) -> SubRow {
    let s = &v.subscription;
    SubRow {
        id: s.id.to_string(),
        name: s.name.to_string(),
        active: s.state == SubscriptionState::Active,
        state: match s.state {
            SubscriptionState::Active => "Active",
            SubscriptionState::Disabled => "Disabled",
        },
        directory: v.directory.domain.to_string(),
        directory_name: v.directory.display_name.to_string(),
        directory_id: v.directory.id.to_string(),
        role: match v.role {
            SubscriptionRole::Owner => "Owner",
            SubscriptionRole::Coadministrator => "Co-administrator",
        },
        is_owner: v.role == SubscriptionRole::Owner,
        created: when(s.created_at),
    }
}

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub upn: String,
    pub added: String,
}

fn person(u: &User, added: Option<atrium_core::time::Timestamp>) -> PersonRow {
    PersonRow {
        id: u.id.to_string(),
        name: u.display_name.to_string(),
        upn: u.upn.to_string(),
        added: added.map(when).unwrap_or_default(),
    }
}

// ------------------------------------------------------------------ list, create, show

#[derive(Template)]
#[template(path = "subscriptions.html")]
struct ListPage {
    l: Layout,
    subs: Vec<SubRow>,
    can_create: bool,
    name: String,
    errors: FieldErrors,
}

async fn list_page(st: &AppState, s: &Session, name: String, errors: FieldErrors) -> Result<ListPage, Failure> {
    let subs = st.services.list_subscriptions(&s.actor).await?.iter().map(sub_row).collect();
    Ok(ListPage { l: layout(st, s, "Subscriptions", "subscriptions").await?, subs, can_create: s.actor.tenant_id == PERSONAL_ACCOUNTS_TENANT, name, errors })
}

pub(crate) async fn list(State(st): State<AppState>, s: Session) -> PageResult {
    Ok(render(&list_page(&st, &s, String::new(), FieldErrors::default()).await?))
}

async fn create(State(st): State<AppState>, Post { s, f }: Post) -> PageResult {
    match st.services.create_subscription(&s.actor, f.get("name")).await {
        Ok(v) => Ok(redirect(&format!("/subscriptions/{}", v.subscription.id))),
        Err(e) => {
            let status = super::status_of(&e);
            let errors = FieldErrors::from_error(&e, &["name"]);
            Ok(render_status(status, &list_page(&st, &s, f.get("name").to_owned(), errors).await?))
        }
    }
}

/// A directory the owner asked to use since the last change, and whether it may be mapped now.
pub struct RequestedDirectory {
    pub id: String,
    pub domain: String,
    pub ready: bool,
    pub status: String,
}

/// The directories asked for since the subscription's last directory change, as the service
/// judges them for step 3: "ready" when it would accept the mapping now.
async fn requested_directories(st: &AppState, s: &Session, id: SubscriptionId) -> Result<Vec<RequestedDirectory>, Failure> {
    let list = st.services.requested_directories(&s.actor, id).await?;
    Ok(list
        .into_iter()
        .map(|d| {
            let (ready, status) = match d.refusal {
                None => (true, format!("Consented{}: ready to map", d.consented_at.map(|t| format!(" on {}", when(t))).unwrap_or_default())),
                Some(e) if e.code == ErrorCode::DirectoryNotConsented => (false, "Waiting for the directory's consent (or the code expired)".to_owned()),
                Some(e) => (false, e.message),
            };
            RequestedDirectory { id: d.directory.id.to_string(), domain: d.directory.domain.to_string(), ready, status }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct ShowPage {
    l: Layout,
    sub: SubRow,
    requests: Vec<RequestedDirectory>,
    done: String,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

pub(crate) async fn show(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> PageResult {
    let id = sub_id(&id)?;
    let v = st.services.get_subscription(&s.actor, id).await?;
    let sub = sub_row(&v);
    let requests = if sub.is_owner { requested_directories(&st, &s, id).await? } else { Vec::new() };
    // A note after a redirect; only fixed words, never echoed input.
    let done = match q.done.as_deref() {
        Some("directory") => format!("The subscription now trusts {}. The previous directory's co-administrators lost access.", sub.directory),
        Some("disabled") => "The subscription is disabled: it left the Web storefront deployment views.".to_owned(),
        Some("enabled") => "The subscription is active again.".to_owned(),
        _ => String::new(),
    };
    Ok(render(&ShowPage { l: layout(&st, &s, sub.name.clone(), "subscriptions").await?, sub, requests, done }))
}

// ------------------------------------------------------------------ disable / enable

#[derive(Template)]
#[template(path = "subscription_state.html")]
struct StatePage {
    l: Layout,
    sub: SubRow,
    disable: bool,
    error: Option<String>,
}

fn wants_disable(uri: &axum::http::Uri) -> bool {
    uri.path().ends_with("/disable")
}

async fn state_confirm(State(st): State<AppState>, s: Session, Path(id): Path<String>, uri: axum::http::Uri) -> PageResult {
    let v = st.services.get_subscription(&s.actor, sub_id(&id)?).await?;
    let sub = sub_row(&v);
    let disable = wants_disable(&uri);
    let title = if disable { "Disable the subscription" } else { "Enable the subscription" };
    Ok(render(&StatePage { l: layout(&st, &s, title, "subscriptions").await?, sub, disable, error: None }))
}

async fn set_state(State(st): State<AppState>, Path(id): Path<String>, uri: axum::http::Uri, Post { s, .. }: Post) -> PageResult {
    let id = sub_id(&id)?;
    let disable = wants_disable(&uri);
    let state = if disable { SubscriptionState::Disabled } else { SubscriptionState::Active };
    match st.services.set_subscription_state(&s.actor, id, state).await {
        Ok(_) => Ok(redirect(&format!("/subscriptions/{id}?done={}", if disable { "disabled" } else { "enabled" }))),
        Err(e) if e.code == ErrorCode::OwnerOnly => {
            let sub = sub_row(&st.services.get_subscription(&s.actor, id).await?);
            let title = if disable { "Disable the subscription" } else { "Enable the subscription" };
            Ok(render_status(StatusCode::FORBIDDEN, &StatePage { l: layout(&st, &s, title, "subscriptions").await?, sub, disable, error: Some(e.message) }))
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------ step 1: use existing directory

#[derive(Template)]
#[template(path = "subscription_use_directory.html")]
struct UseDirectoryPage {
    l: Layout,
    sub: SubRow,
    tenant: String,
    errors: FieldErrors,
}

async fn use_directory_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let sub = sub_row(&st.services.get_subscription(&s.actor, sub_id(&id)?).await?);
    Ok(render(&UseDirectoryPage { l: layout(&st, &s, "Use existing directory", "subscriptions").await?, sub, tenant: String::new(), errors: FieldErrors::default() }))
}

#[derive(Template)]
#[template(path = "subscription_code.html")]
struct CodePage {
    l: Layout,
    sub: SubRow,
    code: String,
    directory: String,
    directory_name: String,
    expires: String,
}

async fn use_directory(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let id = sub_id(&id)?;
    let sub = sub_row(&st.services.get_subscription(&s.actor, id).await?);
    match st.services.request_directory(&s.actor, id, f.get("tenant")).await {
        Ok(r) => Ok(render(&CodePage {
            l: layout(&st, &s, "Consent code", "subscriptions").await?,
            sub,
            code: r.code.expose().to_owned(),
            directory: r.directory.domain.to_string(),
            directory_name: r.directory.display_name.to_string(),
            expires: when(r.request.expires_at),
        })),
        Err(e) if e.code == ErrorCode::Internal => Err(e.into()),
        Err(e) => {
            let status = super::status_of(&e);
            let errors = FieldErrors::from_error(&e, &["tenant"]);
            Ok(render_status(status, &UseDirectoryPage { l: layout(&st, &s, "Use existing directory", "subscriptions").await?, sub, tenant: f.get("tenant").to_owned(), errors }))
        }
    }
}

// ------------------------------------------------------------------ step 2: the directory consents

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentFormPage {
    l: Layout,
    errors: FieldErrors,
}

async fn consent_form(State(st): State<AppState>, s: Session) -> PageResult {
    Ok(render(&ConsentFormPage { l: layout(&st, &s, "Directory consent", "consent").await?, errors: FieldErrors::default() }))
}

#[derive(Template)]
#[template(path = "consent_review.html")]
struct ConsentReviewPage {
    l: Layout,
    code: String,
    c: ConsentFacts,
}

#[derive(Template)]
#[template(path = "consent_done.html")]
struct ConsentDonePage {
    l: Layout,
    c: ConsentFacts,
}

pub struct ConsentFacts {
    pub owner: String,
    pub subscription: String,
    pub subscription_id: String,
    pub directory: String,
    pub directory_name: String,
    pub expires: String,
}

fn facts(c: &DirectoryConsent) -> ConsentFacts {
    ConsentFacts {
        owner: c.owner_name.clone(),
        subscription: c.subscription.name.to_string(),
        subscription_id: c.subscription.id.to_string(),
        directory: c.directory.domain.to_string(),
        directory_name: c.directory.display_name.to_string(),
        expires: when(c.request.expires_at),
    }
}

async fn consent_error(st: &AppState, s: &Session, e: Error) -> PageResult {
    if e.code == ErrorCode::Internal {
        return Err(e.into());
    }
    let status = super::status_of(&e);
    let errors = FieldErrors::from_error(&e, &["code"]);
    Ok(render_status(status, &ConsentFormPage { l: layout(st, s, "Directory consent", "consent").await?, errors }))
}

async fn consent_review(State(st): State<AppState>, Post { s, f }: Post) -> PageResult {
    let code = f.get("code").trim().to_owned();
    if code.is_empty() {
        let e = Error::new(ErrorCode::MissingField).with_message("Enter the consent code the subscription's owner gave you.").with_target("code");
        return consent_error(&st, &s, e).await;
    }
    match st.services.review_directory_request(&s.actor, &Secret::new(code.clone())).await {
        Ok(c) => Ok(render(&ConsentReviewPage { l: layout(&st, &s, "Use this directory with a subscription?", "consent").await?, code, c: facts(&c) })),
        Err(e) => consent_error(&st, &s, e).await,
    }
}

async fn consent(State(st): State<AppState>, Post { s, f }: Post) -> PageResult {
    match st.services.consent_directory(&s.actor, &Secret::new(f.get("code").trim())).await {
        Ok(c) => Ok(render(&ConsentDonePage { l: layout(&st, &s, "The directory can be used", "consent").await?, c: facts(&c) })),
        Err(e) => consent_error(&st, &s, e).await,
    }
}

// ------------------------------------------------------------------ step 3: change the directory

#[derive(Template)]
#[template(path = "subscription_directory.html")]
struct ChangeFormPage {
    l: Layout,
    sub: SubRow,
    requests: Vec<RequestedDirectory>,
    selected: String,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
struct ChangeQuery {
    #[serde(rename = "tenantId")]
    tenant_id: Option<String>,
}

async fn change_page(st: &AppState, s: &Session, id: SubscriptionId, selected: String, errors: FieldErrors) -> Result<ChangeFormPage, Failure> {
    let sub = sub_row(&st.services.get_subscription(&s.actor, id).await?);
    let requests = if sub.is_owner { requested_directories(st, s, id).await? } else { Vec::new() };
    Ok(ChangeFormPage { l: layout(st, s, "Change the associated directory", "subscriptions").await?, sub, requests, selected, errors })
}

async fn change_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    Ok(render(&change_page(&st, &s, sub_id(&id)?, String::new(), FieldErrors::default()).await?))
}

#[derive(Template)]
#[template(path = "subscription_directory_confirm.html")]
struct ChangeConfirmPage {
    l: Layout,
    sub_id: String,
    sub_name: String,
    from: DirectoryFacts,
    to: DirectoryFacts,
    losing: Vec<PersonRow>,
    consented: String,
}

pub struct DirectoryFacts {
    pub id: String,
    pub domain: String,
    pub name: String,
}

fn directory_facts(t: &Tenant) -> DirectoryFacts {
    DirectoryFacts { id: t.id.to_string(), domain: t.domain.to_string(), name: t.display_name.to_string() }
}

fn confirm_page(l: Layout, c: &DirectoryChange) -> ChangeConfirmPage {
    ChangeConfirmPage {
        l,
        sub_id: c.subscription.id.to_string(),
        sub_name: c.subscription.name.to_string(),
        from: directory_facts(&c.from),
        to: directory_facts(&c.to),
        losing: c.losing_access.iter().map(|u| person(u, None)).collect(),
        consented: c.consented_at.map(when).unwrap_or_default(),
    }
}

async fn change_refused(st: &AppState, s: &Session, id: SubscriptionId, selected: &str, e: Error) -> PageResult {
    if e.code == ErrorCode::Internal {
        return Err(e.into());
    }
    let status = super::status_of(&e);
    let errors = FieldErrors::from_error(&e, &["tenantId"]);
    Ok(render_status(status, &change_page(st, s, id, selected.to_owned(), errors).await?))
}

/// The "Next" of the Directory drop-down: the confirm page, which changes nothing yet.
async fn change_confirm(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<ChangeQuery>) -> PageResult {
    let id = sub_id(&id)?;
    let raw = q.tenant_id.unwrap_or_default();
    if raw.trim().is_empty() {
        let e = Error::new(ErrorCode::MissingField).with_message("Choose the directory.").with_target("tenantId");
        return change_refused(&st, &s, id, &raw, e).await;
    }
    let preview = match parse_directory(raw.trim()) {
        Ok(to) => st.services.preview_directory_change(&s.actor, id, to).await,
        Err(e) => Err(e),
    };
    match preview {
        Ok(c) => Ok(render(&confirm_page(layout(&st, &s, "Confirm directory mapping", "subscriptions").await?, &c))),
        Err(e) => change_refused(&st, &s, id, &raw, e).await,
    }
}

async fn change(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let id = sub_id(&id)?;
    let raw = f.get("tenantId").trim().to_owned();
    let result = match parse_directory(&raw) {
        Ok(to) => st.services.change_directory(&s.actor, id, to).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(redirect(&format!("/subscriptions/{id}?done=directory"))),
        Err(e) => change_refused(&st, &s, id, &raw, e).await,
    }
}

// ------------------------------------------------------------------ step 4: administrators

#[derive(Template)]
#[template(path = "subscription_admins.html")]
struct AdminsPage {
    l: Layout,
    sub: SubRow,
    admins: Vec<PersonRow>,
    email: String,
    errors: FieldErrors,
}

async fn admins_page(st: &AppState, s: &Session, id: SubscriptionId, email: String, errors: FieldErrors) -> Result<AdminsPage, Failure> {
    let sub = sub_row(&st.services.get_subscription(&s.actor, id).await?);
    let admins = st.services.list_coadmins(&s.actor, id).await?.iter().map(|(c, u)| person(u, Some(c.added_at))).collect();
    Ok(AdminsPage { l: layout(st, s, format!("Administrators – {}", sub.name), "subscriptions").await?, sub, admins, email, errors })
}

async fn admins(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    Ok(render(&admins_page(&st, &s, sub_id(&id)?, String::new(), FieldErrors::default()).await?))
}

async fn add_admin(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let id = sub_id(&id)?;
    match st.services.add_coadmin(&s.actor, id, f.get("email")).await {
        Ok(_) => Ok(redirect(&format!("/subscriptions/{id}/administrators"))),
        Err(e) if e.code == ErrorCode::Internal => Err(e.into()),
        Err(e) => {
            let status = super::status_of(&e);
            let errors = FieldErrors::from_error(&e, &["email"]);
            Ok(render_status(status, &admins_page(&st, &s, id, f.get("email").to_owned(), errors).await?))
        }
    }
}

#[derive(Template)]
#[template(path = "subscription_admin_remove.html")]
struct RemoveAdminPage {
    l: Layout,
    sub: SubRow,
    admin: PersonRow,
}

async fn remove_admin_confirm(State(st): State<AppState>, s: Session, Path((id, uid)): Path<(String, String)>) -> PageResult {
    let id = sub_id(&id)?;
    let uid = UserId::parse(&uid, "userId")?;
    let sub = sub_row(&st.services.get_subscription(&s.actor, id).await?);
    let admin = st
        .services
        .list_coadmins(&s.actor, id)
        .await?
        .iter()
        .find(|(c, _)| c.user_id == uid)
        .map(|(c, u)| person(u, Some(c.added_at)))
        .ok_or_else(|| Error::new(ErrorCode::CoadminNotFound).with_target("userId"))?;
    Ok(render(&RemoveAdminPage { l: layout(&st, &s, "Remove a co-administrator", "subscriptions").await?, sub, admin }))
}

async fn remove_admin(State(st): State<AppState>, Path((id, uid)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let id = sub_id(&id)?;
    st.services.remove_coadmin(&s.actor, id, UserId::parse(&uid, "userId")?).await?;
    Ok(redirect(&format!("/subscriptions/{id}/administrators")))
}

// ------------------------------------------------------------------ step 5: web storefront deployment

#[derive(Template)]
#[template(path = "deployment.html")]
struct DeploymentPage {
    l: Layout,
    subs: Vec<SubRow>,
    chosen: Option<SubRow>,
}

#[derive(serde::Deserialize, Default)]
struct DeploymentQuery {
    subscription: Option<String>,
}

async fn deployment(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<DeploymentQuery>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let subs: Vec<SubRow> = st.services.deployment_subscriptions(&s.actor, ctx.id).await?.iter().map(sub_row).collect();
    let chosen = q.subscription.and_then(|c| subs.iter().find(|s| s.id == c).cloned());
    Ok(render(&DeploymentPage { l: ctx.layout("Web storefront deployment", "deployment"), subs, chosen }))
}
