//! Groups: create a new group with members and a grant, and the group's page.

use super::grant::{GrantEditor, grant_input};
use super::members::{MemberRow, products, row};
use super::boxes::{CheckBox, user_boxes};
use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, optional, redirect, refusable, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::page::ListQuery;
use atrium_core::services::{MemberView, NewGroup};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{accountId}/groups/new", get(create_form).post(create))
}

#[derive(Template)]
#[template(path = "group_new.html")]
struct CreatePage {
    l: Layout,
    base: String,
    domain: String,
    name: String,
    description: String,
    users: Vec<CheckBox>,
    editor: GrantEditor,
    errors: FieldErrors,
    blocked: Option<String>,
}

async fn create_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    Ok(render(&CreatePage {
        l: ctx.layout("New group", "users"),
        base: ctx.base(),
        domain: ctx.tenant.domain.to_string(),
        name: String::new(),
        description: String::new(),
        users: user_boxes(&st, &ctx, &[]).await?,
        editor: GrantEditor::empty(ctx.program(), &products(&st, &ctx).await?),
        errors: FieldErrors::default(),
        blocked: ctx.create_blocked(),
    }))
}

async fn create(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let members = f.all("member");
    let g = NewGroup { display_name: f.get("displayName").to_owned(), description: f.opt("description"), members: members.clone() };
    match st.services.create_member_group(&s.actor, ctx.id, g, &grant_input(&f)).await {
        Ok((_, g)) => Ok(redirect(&format!("{}/members/group/{}", ctx.base(), g.id))),
        Err(e) => {
            let errors = FieldErrors::from_error(&e, &["displayName", "description", "members", "grant"]);
            let editor = GrantEditor::from_form(ctx.program(), &f, &products(&st, &ctx).await?).with_error(errors.field("grant"));
            Ok(render_status(
                super::status_of(&e),
                &CreatePage {
                    l: ctx.layout("New group", "users"),
                    base: ctx.base(),
                    domain: ctx.tenant.domain.to_string(),
                    name: f.get("displayName").to_owned(),
                    description: f.get("description").to_owned(),
                    users: user_boxes(&st, &ctx, &members).await?,
                    editor,
                    errors,
                    blocked: ctx.create_blocked(),
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "group_detail.html")]
struct GroupPage {
    l: Layout,
    base: String,
    m: MemberRow,
    added: String,
    description: String,
    members: Vec<(String, String)>,
    members_hidden: Option<String>,
    can_view_history: bool,
}

pub async fn detail(st: &AppState, ctx: &AccountCtx, m: &MemberView) -> PageResult {
    let gid = atrium_core::ids::GroupId::from_uuid(m.member.principal.uuid());
    // Directory details only where the caller may read the group's tenant.
    let description = optional(st.services.get_group(ctx.actor(), m.member.tenant_id, gid).await)?.and_then(|g| g.description.map(|d| d.to_string())).unwrap_or_default();
    let (members, members_hidden) = match refusable(st.services.list_group_members(ctx.actor(), m.member.tenant_id, gid, &ListQuery::first(200)).await)? {
        Ok(p) => (p.items.iter().map(|u| (u.display_name.to_string(), u.upn.to_string())).collect(), None),
        Err(e) => (Vec::new(), Some(e.message)),
    };
    Ok(render(&GroupPage {
        l: ctx.layout(m.display_name.clone(), "users"),
        base: ctx.base(),
        m: row(m, ctx.program()),
        added: when(m.member.added_at),
        description,
        members,
        members_hidden,
        can_view_history: ctx.actions.view_history.allowed(),
    }))
}
