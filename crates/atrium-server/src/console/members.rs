//! User management: the Users / Groups / Microsoft Entra applications tabs, adding existing
//! principals (search, multi-select, one grant for all), editing access, and removing.

use super::grant::{GrantEditor, describe, grant_input};
use super::{AccountCtx, FieldErrors, Layout, PageQuery, PageResult, Pager, Post, Session, redirect, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::Error;
use atrium_core::ids::TenantId;
use atrium_core::model::Product;
use atrium_core::page::ListQuery;
use atrium_core::services::{MemberView, PrincipalInput};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/users", get(users_tab))
        .route("/accounts/{accountId}/groups", get(groups_tab))
        .route("/accounts/{accountId}/applications", get(apps_tab))
        .route("/accounts/{accountId}/users/add", get(add_users).post(add_users_post))
        .route("/accounts/{accountId}/groups/add", get(add_groups).post(add_groups_post))
        .route("/accounts/{accountId}/applications/add", get(add_apps).post(add_apps_post))
        .route("/accounts/{accountId}/members/{type}/{principalId}/access", get(access_form).post(access_save))
        .route("/accounts/{accountId}/members/{type}/{principalId}/remove", get(remove_confirm).post(remove))
}

/// A tab of User management and the principal kind it lists.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Users,
    Groups,
    Applications,
}

impl Tab {
    pub fn kind(self) -> &'static str {
        match self {
            Tab::Users => "user",
            Tab::Groups => "group",
            Tab::Applications => "application",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Tab::Users => "users",
            Tab::Groups => "groups",
            Tab::Applications => "applications",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Tab::Users => "users",
            Tab::Groups => "groups",
            Tab::Applications => "Microsoft Entra applications",
        }
    }
}

#[derive(Clone)]
pub struct MemberRow {
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub identifier: String,
    pub tenant: String,
    pub access: String,
    pub last_activity: String,
    /// "Invitation pending" for a guest who has not accepted yet (seed 002), shown in place of
    /// the name.
    pub status: Option<String>,
}

pub fn row(m: &MemberView, program: atrium_core::access::Program) -> MemberRow {
    MemberRow {
        kind: m.member.principal.kind(),
        id: m.member.principal.uuid().to_string(),
        name: m.display_name.clone(),
        identifier: m.identifier.clone().unwrap_or_default(),
        tenant: m.tenant_domain.clone(),
        access: describe(&m.grant, program),
        last_activity: m.last_activity.map(when).unwrap_or_default(),
        status: m.status.clone(),
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    l: Layout,
    base: String,
    tab: &'static str,
    noun: &'static str,
    rows: Vec<MemberRow>,
    pager: Pager,
    no_tenant: bool,
    create_blocked: Option<String>,
    invite_blocked: Option<String>,
    can_manage: bool,
    can_view_history: bool,
}

async fn tab_page(st: AppState, s: Session, id: String, q: PageQuery, tab: Tab) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let all: Vec<MemberRow> =
        st.services.list_members(&s.actor, ctx.id).await?.iter().filter(|m| m.member.principal.kind() == tab.kind()).map(|m| row(m, ctx.program())).collect();
    let (rows, pager) = Pager::slice(&all, q.page);
    Ok(render(&MembersPage {
        l: ctx.layout("User management", "users"),
        base: ctx.base(),
        tab: tab.path(),
        noun: tab.noun(),
        rows,
        pager,
        no_tenant: ctx.caller.tenants.is_empty(),
        create_blocked: ctx.create_blocked(),
        invite_blocked: ctx.invite_blocked(),
        can_manage: ctx.actions.manage_users.allowed(),
        can_view_history: ctx.actions.view_history.allowed(),
    }))
}

async fn users_tab(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PageQuery>) -> PageResult {
    tab_page(st, s, id, q, Tab::Users).await
}
async fn groups_tab(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PageQuery>) -> PageResult {
    tab_page(st, s, id, q, Tab::Groups).await
}
async fn apps_tab(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PageQuery>) -> PageResult {
    tab_page(st, s, id, q, Tab::Applications).await
}

// ------------------------------------------------------------------ add existing

#[derive(serde::Deserialize, Default)]
pub struct PickQuery {
    tenant: Option<String>,
    search: Option<String>,
    cursor: Option<String>,
}

pub struct Choice {
    pub id: String,
    pub name: String,
    pub detail: String,
    pub member: bool,
    pub checked: bool,
}

pub struct TenantOption {
    pub id: String,
    pub domain: String,
    pub selected: bool,
}

pub struct ItemOutcome {
    pub name: String,
    pub ok: bool,
    pub message: String,
}

#[derive(Template)]
#[template(path = "member_add.html")]
struct AddPage {
    l: Layout,
    base: String,
    tab: &'static str,
    noun: &'static str,
    tenants: Vec<TenantOption>,
    tenant: String,
    tenant_domain: String,
    search: String,
    choices: Vec<Choice>,
    /// Why the tenant's directory is not listed (e.g. another tenant than the one signed in
    /// through), shown instead of the list: an empty list would say the tenant has nobody.
    refused: Option<String>,
    next_cursor: Option<String>,
    editor: GrantEditor,
    outcomes: Vec<ItemOutcome>,
    errors: FieldErrors,
}

/// The directory objects of one kind in `tenant`, one page of a prefix search. The account's
/// service decides who may see them (the owner: every associated tenant).
async fn directory(st: &AppState, ctx: &AccountCtx, tab: Tab, tenant: TenantId, q: &ListQuery) -> Result<(Vec<(String, String, String)>, Option<String>), Error> {
    let a = ctx.actor();
    Ok(match tab {
        Tab::Users => {
            let p = st.services.list_account_tenant_users(a, ctx.id, tenant, q).await?;
            (p.items.iter().map(|u| (u.id.to_string(), u.display_name.to_string(), u.upn.to_string())).collect(), p.next_cursor)
        }
        Tab::Groups => {
            let p = st.services.list_account_tenant_groups(a, ctx.id, tenant, q).await?;
            (p.items.iter().map(|g| (g.id.to_string(), g.name.to_string(), g.description.as_ref().map(ToString::to_string).unwrap_or_default())).collect(), p.next_cursor)
        }
        Tab::Applications => {
            let p = st.services.list_account_tenant_applications(a, ctx.id, tenant, q).await?;
            (p.items.iter().map(|x| (x.id.to_string(), x.display_name.to_string(), format!("Client ID {}", x.client_id))).collect(), p.next_cursor)
        }
    })
}

/// The account's products, for the grant editor. Every caller of the account may list them,
/// so any failure is the page's.
pub async fn products(st: &AppState, ctx: &AccountCtx) -> Result<Vec<Product>, super::Failure> {
    Ok(st.services.list_products(ctx.actor(), ctx.id).await?)
}

#[allow(clippy::too_many_arguments)]
async fn add_page(
    st: &AppState,
    ctx: &AccountCtx,
    tab: Tab,
    q: &PickQuery,
    checked: &[String],
    editor: GrantEditor,
    outcomes: Vec<ItemOutcome>,
    mut errors: FieldErrors,
) -> Result<AddPage, super::Failure> {
    let associated = st.services.list_account_tenants(ctx.actor(), ctx.id).await?;
    let own = ctx.actor().tenant_id;
    let tenant = q
        .tenant
        .as_deref()
        // A malformed or foreign `?tenant=` falls back to a default tenant: it is only a filter.
        .and_then(|t| TenantId::parse(t, "tenant").ok())
        .filter(|t| associated.iter().any(|(a, _)| a.id == *t))
        .or_else(|| associated.iter().find(|(t, _)| t.id == own).map(|(t, _)| t.id))
        .or_else(|| associated.first().map(|(t, _)| t.id));
    let members: Vec<String> =
        st.services.list_members(ctx.actor(), ctx.id).await?.iter().filter(|m| m.member.principal.kind() == tab.kind()).map(|m| m.member.principal.uuid().to_string()).collect();
    let (mut choices, mut next_cursor, mut refused) = (Vec::new(), None, None);
    if let Some(t) = tenant {
        match ListQuery::parse(q.search.as_deref(), q.cursor.as_deref(), Some(25)) {
            // A tenant whose directory the caller may not read shows why; a fault fails the page.
            Ok(lq) => match super::refusable(directory(st, ctx, tab, t, &lq).await)? {
                Ok((items, next)) => {
                    next_cursor = next;
                    choices = items
                        .into_iter()
                        .map(|(id, name, detail)| Choice { member: members.contains(&id), checked: checked.contains(&id), id, name, detail })
                        .collect();
                }
                Err(e) => refused = Some(e.message),
            },
            Err(e) => errors.general = errors.general.or(Some(e.message)),
        }
    }
    let tenant_domain = associated.iter().find(|(t, _)| Some(t.id) == tenant).map(|(t, _)| t.domain.to_string()).unwrap_or_default();
    let tenants = associated
        .iter()
        .map(|(t, _)| TenantOption { id: t.id.to_string(), domain: t.domain.to_string(), selected: Some(t.id) == tenant })
        .collect();
    Ok(AddPage {
        l: ctx.layout(format!("Add {}", tab.noun()), "users"),
        base: ctx.base(),
        tab: tab.path(),
        noun: tab.noun(),
        tenants,
        tenant: tenant.map(|t| t.to_string()).unwrap_or_default(),
        tenant_domain,
        search: q.search.clone().unwrap_or_default(),
        choices,
        refused,
        next_cursor,
        editor,
        outcomes,
        errors,
    })
}

async fn add_get(st: AppState, s: Session, id: String, q: PickQuery, tab: Tab) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let editor = GrantEditor::empty(ctx.program(), &products(&st, &ctx).await?);
    Ok(render(&add_page(&st, &ctx, tab, &q, &[], editor, Vec::new(), FieldErrors::default()).await?))
}

async fn add_post(st: AppState, id: String, Post { s, f }: Post, tab: Tab) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let tenant = f.opt("tenant");
    let picked = f.all("principal");
    let q = PickQuery { tenant: tenant.clone(), search: f.opt("search"), cursor: None };
    let inputs: Vec<PrincipalInput> = picked.iter().map(|p| PrincipalInput { kind: tab.kind().into(), id: p.clone(), tenant_id: tenant.clone() }).collect();
    let products = products(&st, &ctx).await?;
    match st.services.add_members(&s.actor, ctx.id, inputs, &grant_input(&f)).await {
        Ok(results) if results.iter().all(|r| r.result.is_ok()) => Ok(redirect(&format!("{}/{}", ctx.base(), tab.path()))),
        Ok(results) => {
            // R6: report per item; the ones that were added stay added.
            let outcomes = results
                .into_iter()
                .map(|r| ItemOutcome {
                    name: r.input.id.clone(),
                    ok: r.result.is_ok(),
                    message: match r.result {
                        Ok(_) => "Added".into(),
                        Err(e) => e.message,
                    },
                })
                .collect();
            let editor = GrantEditor::from_form(ctx.program(), &f, &products);
            Ok(render_status(StatusCode::OK, &add_page(&st, &ctx, tab, &q, &[], editor, outcomes, FieldErrors::default()).await?))
        }
        Err(e) => {
            let errors = FieldErrors::from_error(&e, &["grant", "principals"]);
            let editor = GrantEditor::from_form(ctx.program(), &f, &products).with_error(errors.field("grant"));
            Ok(render_status(super::status_of(&e), &add_page(&st, &ctx, tab, &q, &picked, editor, Vec::new(), errors).await?))
        }
    }
}

async fn add_users(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PickQuery>) -> PageResult {
    add_get(st, s, id, q, Tab::Users).await
}
async fn add_groups(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PickQuery>) -> PageResult {
    add_get(st, s, id, q, Tab::Groups).await
}
async fn add_apps(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PickQuery>) -> PageResult {
    add_get(st, s, id, q, Tab::Applications).await
}
async fn add_users_post(State(st): State<AppState>, Path(id): Path<String>, p: Post) -> PageResult {
    add_post(st, id, p, Tab::Users).await
}
async fn add_groups_post(State(st): State<AppState>, Path(id): Path<String>, p: Post) -> PageResult {
    add_post(st, id, p, Tab::Groups).await
}
async fn add_apps_post(State(st): State<AppState>, Path(id): Path<String>, p: Post) -> PageResult {
    add_post(st, id, p, Tab::Applications).await
}

// ------------------------------------------------------------------ one member

/// A member of the account, by kind and id (404 if it is not one).
pub async fn find_member(st: &AppState, ctx: &AccountCtx, kind: &str, pid: &str) -> Result<MemberView, Error> {
    st.services
        .list_members(ctx.actor(), ctx.id)
        .await?
        .into_iter()
        .find(|m| m.member.principal.kind() == kind && m.member.principal.uuid().to_string() == pid)
        .ok_or_else(|| Error::new(atrium_core::ErrorCode::MemberNotFound).with_target("principalId"))
}

pub fn tab_of(kind: &str) -> &'static str {
    match kind {
        "group" => "groups",
        "application" => "applications",
        _ => "users",
    }
}

#[derive(Template)]
#[template(path = "member_access.html")]
struct AccessPage {
    l: Layout,
    base: String,
    m: MemberRow,
    editor: GrantEditor,
    errors: FieldErrors,
}

async fn access_form(State(st): State<AppState>, s: Session, Path((id, kind, pid)): Path<(String, String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, &kind, &pid).await?;
    // Not offered where Save would be refused: the services' answer, with its reason.
    if let Some(e) = st.services.member_actions(ctx.actor(), ctx.id, &kind, &pid).await?.edit_access.refusal() {
        return Err(e.clone().into());
    }
    let editor = GrantEditor::from_grant(ctx.program(), &m.grant, &products(&st, &ctx).await?);
    Ok(render(&AccessPage { l: ctx.layout("Edit access", "users"), base: ctx.base(), m: row(&m, ctx.program()), editor, errors: FieldErrors::default() }))
}

async fn access_save(State(st): State<AppState>, Path((id, kind, pid)): Path<(String, String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    match st.services.update_member_grant(&s.actor, ctx.id, &kind, &pid, &grant_input(&f)).await {
        Ok(_) => Ok(redirect(&format!("{}/members/{}/{}", ctx.base(), kind, pid))),
        Err(e) => {
            let m = find_member(&st, &ctx, &kind, &pid).await?;
            let errors = FieldErrors::from_error(&e, &["grant"]);
            let editor = GrantEditor::from_form(ctx.program(), &f, &products(&st, &ctx).await?).with_error(errors.field("grant"));
            Ok(render_status(super::status_of(&e), &AccessPage { l: ctx.layout("Edit access", "users"), base: ctx.base(), m: row(&m, ctx.program()), editor, errors }))
        }
    }
}

#[derive(Template)]
#[template(path = "member_remove.html")]
struct RemovePage {
    l: Layout,
    base: String,
    m: MemberRow,
    tab: &'static str,
}

async fn remove_confirm(State(st): State<AppState>, s: Session, Path((id, kind, pid)): Path<(String, String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, &kind, &pid).await?;
    if let Some(e) = st.services.member_actions(ctx.actor(), ctx.id, &kind, &pid).await?.remove.refusal() {
        return Err(e.clone().into());
    }
    Ok(render(&RemovePage { l: ctx.layout("Remove", "users"), base: ctx.base(), m: row(&m, ctx.program()), tab: tab_of(&kind) }))
}

async fn remove(State(st): State<AppState>, Path((id, kind, pid)): Path<(String, String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    st.services.remove_member(&s.actor, ctx.id, &kind, &pid).await?;
    Ok(redirect(&format!("{}/{}", ctx.base(), tab_of(&kind))))
}
