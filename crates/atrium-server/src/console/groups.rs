//! Groups: create a new group with members and a grant, and the group's page.

use super::grant::{GrantEditor, grant_input};
use super::members::{MemberRow, products, row};
use super::boxes::{CheckBox, changes, tenant_user_boxes, user_boxes};
use super::users::{MemberButtons, editable};
use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, optional, redirect, refusable, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::page::ListQuery;
use atrium_core::ErrorCode;
use atrium_core::ids::{GroupId, UserId};
use atrium_core::services::{GroupPatch, MemberView, NewGroup};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/groups/new", get(create_form).post(create))
        .route("/accounts/{accountId}/members/group/{principalId}/edit", get(edit_form).post(edit_save))
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
    buttons: MemberButtons,
}

pub async fn detail(st: &AppState, ctx: &AccountCtx, m: &MemberView) -> PageResult {
    let actions = st.services.member_actions(ctx.actor(), ctx.id, "group", &m.member.principal.uuid().to_string()).await?;
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
        buttons: MemberButtons::of(&actions),
    }))
}

#[derive(Template)]
#[template(path = "group_edit.html")]
struct EditPage {
    l: Layout,
    base: String,
    m: MemberRow,
    name: String,
    description: String,
    /// Why the group cannot be changed here (provisioned by SCIM): shown instead of the fields.
    source_owned: Option<String>,
    users: Vec<CheckBox>,
    errors: FieldErrors,
}

async fn group_members(st: &AppState, ctx: &AccountCtx, m: &MemberView, gid: GroupId) -> Result<Vec<String>, super::Failure> {
    let page = st.services.list_group_members(ctx.actor(), m.member.tenant_id, gid, &ListQuery::first(200)).await?;
    Ok(page.items.iter().map(|u| u.id.to_string()).collect())
}

async fn edit_form(State(st): State<AppState>, s: Session, Path((id, pid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, actions) = editable(&st, &ctx, "group", &pid).await?;
    let gid = GroupId::from_uuid(m.member.principal.uuid());
    let g = st.services.get_group(ctx.actor(), m.member.tenant_id, gid).await?;
    let checked = group_members(&st, &ctx, &m, gid).await?;
    Ok(render(&EditPage {
        l: ctx.layout(format!("Edit {}", m.display_name), "users"),
        base: ctx.base(),
        name: g.name.to_string(),
        description: g.description.map(|d| d.to_string()).unwrap_or_default(),
        source_owned: actions.edit_source_owned.refusal().map(|e| e.message.clone()),
        users: tenant_user_boxes(&st, &ctx, m.member.tenant_id, &checked).await?,
        errors: FieldErrors::default(),
        m: row(&m, ctx.program()),
    }))
}

/// Saves a group (seed 002 "Edit a group"): its name and description, then its members.
async fn edit_save(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, actions) = editable(&st, &ctx, "group", &pid).await?;
    // A provisioned group changes at its source: the service refuses, the page says why.
    if let Some(e) = actions.edit_source_owned.refusal() {
        return Err(e.clone().into());
    }
    let tenant = m.member.tenant_id;
    let gid = GroupId::from_uuid(m.member.principal.uuid());
    let g = st.services.get_group(ctx.actor(), tenant, gid).await?;
    let before = group_members(&st, &ctx, &m, gid).await?;
    let after = f.all("member");
    let (name, description) = (f.get("displayName").trim().to_owned(), f.get("description").trim().to_owned());
    let mut patch = GroupPatch::default();
    if f.has("displayName") && name != g.name.as_str() {
        patch.display_name = Some(name.clone());
    }
    let old_description = g.description.as_ref().map(ToString::to_string).unwrap_or_default();
    if f.has("description") && description != old_description {
        patch.description = Some(Some(description.clone()).filter(|d| !d.is_empty()));
    }
    let fail = |e: atrium_core::Error, users: Vec<CheckBox>| {
        render_status(
            super::status_of(&e),
            &EditPage {
                l: ctx.layout(format!("Edit {}", m.display_name), "users"),
                base: ctx.base(),
                m: row(&m, ctx.program()),
                name: name.clone(),
                description: description.clone(),
                source_owned: None,
                users,
                errors: FieldErrors::from_error(&e, &["displayName", "description", "members"]),
            },
        )
    };
    let boxes = tenant_user_boxes(&st, &ctx, tenant, &before).await?;
    let (add, remove) = changes(&boxes, &before, &after);
    if (patch.display_name.is_some() || patch.description.is_some())
        && let Err(e) = st.services.update_group(ctx.actor(), tenant, gid, patch).await
    {
        return Ok(fail(e, tenant_user_boxes(&st, &ctx, tenant, &after).await?));
    }
    for (uid, adding) in add.iter().map(|u| (u, true)).chain(remove.iter().map(|u| (u, false))) {
        let uid = UserId::parse(uid, "member")?;
        let r = if adding {
            st.services.add_group_member(ctx.actor(), tenant, gid, uid).await
        } else {
            st.services.remove_group_member(ctx.actor(), tenant, gid, uid).await
        };
        if let Err(e) = r {
            let e = if e.code == ErrorCode::Internal { e } else { e.with_target("members") };
            return Ok(fail(e, tenant_user_boxes(&st, &ctx, tenant, &after).await?));
        }
    }
    Ok(redirect(&format!("{}/members/group/{}", ctx.base(), pid)))
}
