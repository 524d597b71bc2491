//! Microsoft Entra applications: create one (registered in the directory and added with a grant,
//! in one transaction), the app's details (Tenant ID, Client ID, Reply URL, App ID URI) and its keys: add
//! (the value shown once), list with created and expires, remove.

use super::grant::{GrantEditor, grant_input};
use super::members::{MemberRow, find_member, products, row};
use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, optional, redirect, refusable, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::KeyId;
use super::users::{MemberButtons, editable};
use atrium_core::services::{ApplicationPatch, MemberView, NewApplication};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/applications/new", get(create_form).post(create))
        .route("/accounts/{accountId}/members/application/{principalId}/keys", post(add_key))
        .route("/accounts/{accountId}/members/application/{principalId}/edit", get(edit_form).post(edit_save))
        .route("/accounts/{accountId}/members/application/{principalId}/keys/{keyId}/remove", get(remove_key_confirm).post(remove_key))
}

#[derive(Default)]
struct AppForm {
    name: String,
    reply_url: String,
    app_id_uri: String,
}

#[derive(Template)]
#[template(path = "app_new.html")]
struct CreatePage {
    l: Layout,
    base: String,
    domain: String,
    v: AppForm,
    editor: GrantEditor,
    errors: FieldErrors,
    blocked: Option<String>,
}

async fn create_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    Ok(render(&CreatePage {
        l: ctx.layout("New Microsoft Entra application", "users"),
        base: ctx.base(),
        domain: ctx.tenant.domain.to_string(),
        v: AppForm::default(),
        editor: GrantEditor::empty(ctx.program(), &products(&st, &ctx).await?),
        errors: FieldErrors::default(),
        blocked: ctx.create_blocked(),
    }))
}

async fn create(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let grant = grant_input(&f);
    let v = AppForm { name: f.get("displayName").to_owned(), reply_url: f.get("replyUrl").to_owned(), app_id_uri: f.get("appIdUri").to_owned() };
    let fail = |e: atrium_core::Error, v: AppForm, ctx: &AccountCtx, editor: GrantEditor| {
        let errors = FieldErrors::from_error(&e, &["displayName", "replyUrl", "appIdUri", "grant"]);
        let editor = editor.with_error(errors.field("grant"));
        render_status(
            super::status_of(&e),
            &CreatePage { l: ctx.layout("New Microsoft Entra application", "users"), base: ctx.base(), domain: ctx.tenant.domain.to_string(), v, editor, errors, blocked: ctx.create_blocked() },
        )
    };
    let editor = GrantEditor::from_form(ctx.program(), &f, &products(&st, &ctx).await?);
    let input = NewApplication {
        display_name: f.get("displayName").to_owned(),
        reply_urls: f.opt("replyUrl").into_iter().collect(),
        app_id_uri: f.opt("appIdUri"),
        public_client: false,
    };
    // One transaction: a refused grant leaves no registration behind.
    let app = match st.services.create_member_application(&s.actor, ctx.id, input, &grant).await {
        Ok((_, a)) => a,
        Err(e) => {
            // The directory API names list items (`replyUrls[0]`); the form has one field.
            let e = match e.target.as_deref() {
                Some(t) if t.starts_with("replyUrls") => e.clone().with_target("replyUrl"),
                _ => e,
            };
            return Ok(fail(e, v, &ctx, editor));
        }
    };
    Ok(redirect(&format!("{}/members/application/{}", ctx.base(), app.id)))
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
}

/// A key for listing: a hint and dates, never the value.
fn key_row(k: &atrium_core::model::AppKey, now: atrium_core::time::Timestamp) -> KeyRow {
    KeyRow {
        id: k.id.to_string(),
        name: k.display_name.clone().unwrap_or_default(),
        hint: format!("{}…", k.hint),
        created: when(k.created_at),
        expires: when(k.expires_at),
        expired: k.expires_at <= now,
    }
}

pub struct NewKey {
    pub value: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "app_detail.html")]
struct AppPage {
    l: Layout,
    base: String,
    m: MemberRow,
    added: String,
    tenant_id: String,
    client_id: String,
    reply_urls: Vec<String>,
    app_id_uri: String,
    keys: Option<Vec<KeyRow>>,
    keys_hidden: Option<String>,
    new_key: Option<NewKey>,
    errors: FieldErrors,
    can_view_history: bool,
    buttons: MemberButtons,
}

pub async fn detail(st: &AppState, ctx: &AccountCtx, m: &MemberView, new_key: Option<NewKey>) -> PageResult {
    detail_with(st, ctx, m, new_key, FieldErrors::default()).await
}

async fn detail_with(st: &AppState, ctx: &AccountCtx, m: &MemberView, new_key: Option<NewKey>, errors: FieldErrors) -> PageResult {
    let pid = m.member.principal.uuid().to_string();
    let actions = st.services.member_actions(ctx.actor(), ctx.id, "application", &pid).await?;
    // Directory details only where the caller may read the application's tenant.
    let app = optional(st.services.get_application(ctx.actor(), m.member.tenant_id, &pid).await)?;
    let now = st.services.clock().now();
    let (keys, keys_hidden) = match refusable(st.services.list_application_keys(ctx.actor(), m.member.tenant_id, &pid).await)? {
        Ok(ks) => (
            Some(ks.iter().map(|k| key_row(k, now)).collect()),
            None,
        ),
        Err(e) => (None, Some(e.message)),
    };
    let status = if errors.any() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(render_status(
        status,
        &AppPage {
            l: ctx.layout(m.display_name.clone(), "users"),
            base: ctx.base(),
            m: row(m, ctx.program()),
            added: when(m.member.added_at),
            tenant_id: m.member.tenant_id.to_string(),
            client_id: app.as_ref().map(|a| a.client_id.to_string()).or_else(|| m.identifier.clone()).unwrap_or_default(),
            reply_urls: app.as_ref().map(|a| a.reply_urls.iter().map(ToString::to_string).collect()).unwrap_or_default(),
            app_id_uri: app.as_ref().and_then(|a| a.app_id_uri.as_ref().map(ToString::to_string)).unwrap_or_default(),
            keys,
            keys_hidden,
            new_key,
            errors,
            can_view_history: ctx.actions.view_history.allowed(),
            buttons: MemberButtons::of(&actions),
        },
    ))
}

async fn add_key(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, "application", &pid).await?;
    let months = match f.opt("validityMonths") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = atrium_core::Error::new(atrium_core::ErrorCode::InvalidValidity).with_target("validityMonths");
                return detail_with(&st, &ctx, &m, None, FieldErrors::from_error(&e, &["validityMonths", "displayName"])).await;
            }
        },
    };
    match st.services.add_application_key(&s.actor, m.member.tenant_id, &pid, f.opt("displayName"), months).await {
        Ok(k) => detail(&st, &ctx, &m, Some(NewKey { value: k.secret.expose().to_owned(), expires: when(k.key.expires_at) })).await,
        Err(e) => detail_with(&st, &ctx, &m, None, FieldErrors::from_error(&e, &["validityMonths", "displayName"])).await,
    }
}

#[derive(Template)]
#[template(path = "key_remove.html")]
struct RemoveKeyPage {
    l: Layout,
    base: String,
    m: MemberRow,
    key: KeyRow,
}

async fn remove_key_confirm(State(st): State<AppState>, s: Session, Path((id, pid, kid)): Path<(String, String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, "application", &pid).await?;
    let now = st.services.clock().now();
    let k = st
        .services
        .list_application_keys(&s.actor, m.member.tenant_id, &pid)
        .await?
        .into_iter()
        .find(|k| k.id.to_string() == kid)
        .ok_or_else(|| atrium_core::Error::new(atrium_core::ErrorCode::KeyNotFound).with_target("keyId"))?;
    Ok(render(&RemoveKeyPage { l: ctx.layout("Remove key", "users"), base: ctx.base(), m: row(&m, ctx.program()), key: key_row(&k, now) }))
}

async fn remove_key(State(st): State<AppState>, Path((id, pid, kid)): Path<(String, String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, "application", &pid).await?;
    st.services.remove_application_key(&s.actor, m.member.tenant_id, &pid, KeyId::parse(&kid, "keyId")?).await?;
    Ok(redirect(&format!("{}/members/application/{}", ctx.base(), pid)))
}

#[derive(Template)]
#[template(path = "app_edit.html")]
struct EditPage {
    l: Layout,
    base: String,
    m: MemberRow,
    reply_urls: String,
    app_id_uri: String,
    errors: FieldErrors,
}

const EDIT_FIELDS: &[&str] = &["replyUrls", "appIdUri"];

/// The Reply URLs typed in the form: one a line.
fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

async fn edit_form(State(st): State<AppState>, s: Session, Path((id, pid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, _) = editable(&st, &ctx, "application", &pid).await?;
    let app = st.services.get_application(ctx.actor(), m.member.tenant_id, &pid).await?;
    Ok(render(&EditPage {
        l: ctx.layout(format!("Edit {}", m.display_name), "users"),
        base: ctx.base(),
        reply_urls: app.reply_urls.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        app_id_uri: app.app_id_uri.map(|u| u.to_string()).unwrap_or_default(),
        errors: FieldErrors::default(),
        m: row(&m, ctx.program()),
    }))
}

/// Saves an application's Reply URL and App ID URI (seed 002 "Edit an Azure AD application").
async fn edit_save(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, _) = editable(&st, &ctx, "application", &pid).await?;
    let app = st.services.get_application(ctx.actor(), m.member.tenant_id, &pid).await?;
    let (urls, uri) = (lines(f.get("replyUrls")), f.get("appIdUri").trim().to_owned());
    let mut patch = ApplicationPatch::default();
    if f.has("replyUrls") && urls != app.reply_urls.iter().map(ToString::to_string).collect::<Vec<_>>() {
        patch.reply_urls = Some(urls);
    }
    if f.has("appIdUri") && uri != app.app_id_uri.as_ref().map(ToString::to_string).unwrap_or_default() {
        patch.app_id_uri = Some(Some(uri.clone()).filter(|u| !u.is_empty()));
    }
    if patch.reply_urls.is_none() && patch.app_id_uri.is_none() {
        return Ok(redirect(&format!("{}/members/application/{}", ctx.base(), pid)));
    }
    match st.services.update_application(ctx.actor(), m.member.tenant_id, &pid, patch).await {
        Ok(_) => Ok(redirect(&format!("{}/members/application/{}", ctx.base(), pid))),
        Err(e) => {
            // The directory names list items (`replyUrls[1]`); the form has one field for them.
            let e = match e.target.as_deref() {
                Some(t) if t.starts_with("replyUrls") => e.clone().with_target("replyUrls"),
                _ => e,
            };
            Ok(render_status(
                super::status_of(&e),
                &EditPage {
                    l: ctx.layout(format!("Edit {}", m.display_name), "users"),
                    base: ctx.base(),
                    m: row(&m, ctx.program()),
                    reply_urls: f.get("replyUrls").to_owned(),
                    app_id_uri: uri,
                    errors: FieldErrors::from_error(&e, EDIT_FIELDS),
                },
            ))
        }
    }
}
