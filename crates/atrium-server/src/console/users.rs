//! Users: create a new user (its temporary password shown once), the user's page, and
//! password reset (the new temporary password shown once). Also the member page dispatcher.

use super::boxes::{CheckBox, changes, group_boxes, tenant_group_boxes};
use super::grant::{GrantEditor, grant_input};
use super::members::{MemberRow, find_member, products, row};
use super::{AccountCtx, Failure, FieldErrors, Layout, PageResult, Post, Session, optional, redirect, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::ErrorCode;
use atrium_core::ids::GroupId;
use atrium_core::model::User;
use atrium_core::services::{MemberActions, MemberView, NewUser, UserPatch};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/users/new", get(create_form).post(create))
        .route("/accounts/{accountId}/members/{type}/{principalId}", get(detail))
        .route("/accounts/{accountId}/members/user/{principalId}/reset-password", post(reset_password))
        .route("/accounts/{accountId}/members/user/{principalId}/edit", get(edit_form).post(edit_save))
        .route("/accounts/{accountId}/members/user/{principalId}/delete", get(delete_confirm).post(delete))
}

#[derive(Default)]
struct UserForm {
    given: String,
    surname: String,
    username: String,
    recovery: String,
    global_admin: bool,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct CreatePage {
    l: Layout,
    base: String,
    domain: String,
    upn_hint: String,
    v: UserForm,
    groups: Vec<CheckBox>,
    editor: GrantEditor,
    errors: FieldErrors,
    blocked: Option<String>,
}

const FIELDS: &[&str] = &["givenName", "surname", "userPrincipalName", "recoveryEmail", "grant", "groups"];

async fn create_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let editor = GrantEditor::empty(ctx.program(), &products(&st, &ctx).await?);
    Ok(render(&CreatePage {
        l: ctx.layout("Create new users", "users"),
        base: ctx.base(),
        domain: ctx.tenant.domain.to_string(),
        upn_hint: format!("An alias such as adele, or adele@{}", ctx.tenant.domain),
        v: UserForm::default(),
        groups: group_boxes(&st, &ctx, &[]).await?,
        editor,
        errors: FieldErrors::default(),
        blocked: ctx.create_blocked(),
    }))
}

#[derive(Template)]
#[template(path = "user_created.html")]
struct CreatedPage {
    l: Layout,
    base: String,
    heading: &'static str,
    name: String,
    upn: String,
    tenant: String,
    password: String,
    member_url: String,
}

async fn create(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let user = NewUser {
        user_principal_name: f.get("userPrincipalName").trim().to_owned(),
        given_name: f.opt("givenName"),
        surname: f.opt("surname"),
        global_admin: f.checked("globalAdmin"),
        recovery_email: f.opt("recoveryEmail"),
        ..NewUser::default()
    };
    let groups = f.all("group");
    match st.services.create_member_user(&s.actor, ctx.id, user, groups.clone(), &grant_input(&f)).await {
        Ok((_, created)) => {
            let password = created.temporary_password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
            Ok(render(&CreatedPage {
                l: ctx.layout("User created", "users"),
                base: ctx.base(),
                heading: "The user was created",
                name: created.user.display_name.to_string(),
                upn: created.user.upn.to_string(),
                tenant: ctx.tenant.domain.to_string(),
                password,
                member_url: format!("{}/members/user/{}", ctx.base(), created.user.id),
            }))
        }
        Err(e) => {
            let errors = FieldErrors::from_error(&e, FIELDS);
            let editor = GrantEditor::from_form(ctx.program(), &f, &products(&st, &ctx).await?).with_error(errors.field("grant"));
            let v = UserForm {
                given: f.get("givenName").to_owned(),
                surname: f.get("surname").to_owned(),
                username: f.get("userPrincipalName").to_owned(),
                recovery: f.get("recoveryEmail").to_owned(),
                global_admin: f.checked("globalAdmin"),
            };
            Ok(render_status(
                super::status_of(&e),
                &CreatePage {
                    l: ctx.layout("Create new users", "users"),
                    base: ctx.base(),
                    domain: ctx.tenant.domain.to_string(),
                    upn_hint: format!("An alias such as adele, or adele@{}", ctx.tenant.domain),
                    v,
                    groups: group_boxes(&st, &ctx, &groups).await?,
                    editor,
                    errors,
                    blocked: ctx.create_blocked(),
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "user_detail.html")]
struct UserPage {
    l: Layout,
    base: String,
    m: MemberRow,
    added: String,
    global_admin: Option<bool>,
    groups: Vec<String>,
    can_reset: bool,
    /// Why the directory actions (edit details, reset password, delete) are not offered, when
    /// the page does not already say it.
    reset_why: Option<String>,
    buttons: MemberButtons,
    can_view_history: bool,
    invitation: Option<super::invitations::InvitationPanel>,
}

#[derive(serde::Deserialize, Default)]
struct DetailQuery {
    resent: Option<String>,
}

/// `/members/{type}/{id}`: the page of a user, group or application member.
async fn detail(State(st): State<AppState>, s: Session, Path((id, kind, pid)): Path<(String, String, String)>, Query(q): Query<DetailQuery>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, &kind, &pid).await?;
    match kind.as_str() {
        "group" => super::groups::detail(&st, &ctx, &m).await,
        "application" => super::applications::detail(&st, &ctx, &m, None).await,
        _ => {
            let actions = st.services.member_actions(ctx.actor(), ctx.id, "user", &pid).await?;
            // Full details only where the caller may read that tenant's directory (multi-tenant
            // visibility rule); otherwise the account view alone.
            let user = optional(st.services.get_user(ctx.actor(), m.member.tenant_id, &pid).await)?;
            let groups = match &user {
                Some(u) => optional(st.services.list_user_groups(ctx.actor(), u.tenant_id, u.id).await)?.unwrap_or_default().iter().map(|g| g.name.to_string()).collect(),
                None => Vec::new(),
            };
            // A pending guest (seed 002): its invitation, with Resend and Revoke.
            let invitation = match m.status {
                Some(_) => super::invitations::InvitationPanel::load(&st, &ctx, &pid, actions.manage_invitation.allowed(), q.resent.is_some()).await?,
                None => None,
            };
            // Reset follows the service (a directory-sync tenant may reset: R5 is about
            // creating). A pending guest has no password yet; its invitation panel says so.
            let reset_why = match actions.reset_password.refusal() {
                Some(e) if e.code != ErrorCode::GuestNotAccepted => Some(format!(
                    "Editing the user's details, resetting the password and deleting the user from the organization need a global administrator signed in through {}.",
                    m.tenant_domain
                )),
                _ => None,
            };
            Ok(render(&UserPage {
                l: ctx.layout(m.display_name.clone(), "users"),
                base: ctx.base(),
                added: when(m.member.added_at),
                global_admin: user.as_ref().map(|u| u.global_admin),
                groups,
                can_reset: actions.reset_password.allowed(),
                reset_why,
                buttons: MemberButtons::of(&actions),
                can_view_history: actions.view_history.allowed(),
                invitation,
                m: row(&m, ctx.program()),
            }))
        }
    }
}

async fn reset_password(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, "user", &pid).await?;
    let password = st.services.reset_member_password(&s.actor, ctx.id, &pid).await?;
    Ok(render(&CreatedPage {
        l: ctx.layout("Password reset", "users"),
        base: ctx.base(),
        heading: "The password was reset",
        name: m.display_name.clone(),
        upn: m.identifier.clone().unwrap_or_default(),
        tenant: m.tenant_domain.clone(),
        password: password.expose().to_owned(),
        member_url: format!("{}/members/user/{}", ctx.base(), pid),
    }))
}

/// The buttons of a member's page, from the services' answers: what is offered, and why an
/// action is not (shown next to its disabled button).
pub struct MemberButtons {
    pub edit_access: Option<String>,
    pub remove: Option<String>,
    /// The reason for Remove when it differs from Edit access's (else one note says both).
    pub remove_note: Option<String>,
    pub edit_details: bool,
    pub delete: bool,
    /// Why synchronized attributes cannot be changed here (a SCIM-provisioned object).
    pub source_owned: Option<String>,
}

impl MemberButtons {
    pub fn of(a: &MemberActions) -> Self {
        let why = |v: &atrium_core::services::Verdict| v.refusal().map(|e| e.message.clone());
        let (edit_access, remove) = (why(&a.edit_access), why(&a.remove));
        MemberButtons {
            remove_note: remove.clone().filter(|r| Some(r) != edit_access.as_ref()),
            edit_access,
            remove,
            edit_details: a.edit_details.allowed(),
            delete: a.delete_from_organization.allowed(),
            source_owned: why(&a.edit_source_owned),
        }
    }
}

/// The member and the services' answers for it, when the caller may change its directory
/// details; the refusal (the console's error page) otherwise.
pub async fn editable(st: &AppState, ctx: &AccountCtx, kind: &str, pid: &str) -> Result<(MemberView, MemberActions), Failure> {
    let m = find_member(st, ctx, kind, pid).await?;
    let actions = st.services.member_actions(ctx.actor(), ctx.id, kind, pid).await?;
    if let Some(e) = actions.edit_details.refusal() {
        return Err(e.clone().into());
    }
    Ok((m, actions))
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditPage {
    l: Layout,
    base: String,
    m: MemberRow,
    given: String,
    surname: String,
    username: String,
    /// Why the names and username are not editable here (provisioned by SCIM).
    source_owned: Option<String>,
    groups: Vec<CheckBox>,
    errors: FieldErrors,
}

impl EditPage {
    fn any_locked(&self) -> bool {
        self.groups.iter().any(|g| g.locked)
    }
}

const EDIT_FIELDS: &[&str] = &["givenName", "surname", "userPrincipalName", "groups"];

fn name_of(v: &Option<atrium_core::domain::PersonName>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

async fn user_groups(st: &AppState, ctx: &AccountCtx, u: &User) -> Result<Vec<String>, Failure> {
    Ok(st.services.list_user_groups(ctx.actor(), u.tenant_id, u.id).await?.iter().map(|g| g.id.to_string()).collect())
}

async fn edit_form(State(st): State<AppState>, s: Session, Path((id, pid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, actions) = editable(&st, &ctx, "user", &pid).await?;
    let u = st.services.get_user(ctx.actor(), m.member.tenant_id, &pid).await?;
    let checked = user_groups(&st, &ctx, &u).await?;
    Ok(render(&EditPage {
        l: ctx.layout(format!("Edit {}", m.display_name), "users"),
        base: ctx.base(),
        given: name_of(&u.given_name),
        surname: name_of(&u.surname),
        username: u.upn.to_string(),
        source_owned: actions.edit_source_owned.refusal().map(|e| e.message.clone()),
        groups: tenant_group_boxes(&st, &ctx, u.tenant_id, &checked).await?,
        errors: FieldErrors::default(),
        m: row(&m, ctx.program()),
    }))
}

/// Saves a user's details in the directory (seed 002 "Edit a user"): the names and username
/// (only what changed, so an unchanged field never meets a rule), then group membership.
async fn edit_save(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (m, actions) = editable(&st, &ctx, "user", &pid).await?;
    let u = st.services.get_user(ctx.actor(), m.member.tenant_id, &pid).await?;
    let before = user_groups(&st, &ctx, &u).await?;
    let after = f.all("group");
    let source_owned = actions.edit_source_owned.refusal().map(|e| e.message.clone());
    let (given, surname, username) = (f.get("givenName").trim().to_owned(), f.get("surname").trim().to_owned(), f.get("userPrincipalName").trim().to_owned());
    let mut patch = UserPatch::default();
    if source_owned.is_none() {
        let names_changed = (f.has("givenName") && given != name_of(&u.given_name)) || (f.has("surname") && surname != name_of(&u.surname));
        if names_changed {
            patch.given_name = Some(Some(given.clone()).filter(|v| !v.is_empty()));
            patch.surname = Some(Some(surname.clone()).filter(|v| !v.is_empty()));
            // The name shown everywhere follows the first and last name, as when the user was created.
            let full = format!("{given} {surname}").trim().to_owned();
            patch.display_name = Some(full).filter(|v| !v.is_empty());
        }
        if f.has("userPrincipalName") && !username.eq_ignore_ascii_case(u.upn.as_str()) {
            patch.user_principal_name = Some(username.clone());
        }
    }
    let fail = |e: atrium_core::Error, boxes: Vec<CheckBox>| {
        render_status(
            super::status_of(&e),
            &EditPage {
                l: ctx.layout(format!("Edit {}", m.display_name), "users"),
                base: ctx.base(),
                m: row(&m, ctx.program()),
                given: given.clone(),
                surname: surname.clone(),
                username: username.clone(),
                source_owned: source_owned.clone(),
                groups: boxes,
                errors: FieldErrors::from_error(&e, EDIT_FIELDS),
            },
        )
    };
    let boxes = tenant_group_boxes(&st, &ctx, u.tenant_id, &before).await?;
    let (add, remove) = changes(&boxes, &before, &after);
    let ticked = || async { tenant_group_boxes(&st, &ctx, u.tenant_id, &after).await };
    let ids = |v: &[String]| v.iter().map(|g| GroupId::parse(g, "groups")).collect::<Result<Vec<_>, _>>();
    let (add, remove) = (ids(&add)?, ids(&remove)?);
    // One service call: the details and the groups are saved together or not at all.
    if let Err(e) = st.services.edit_user(ctx.actor(), u.tenant_id, u.id, patch, &add, &remove).await {
        return Ok(fail(e, ticked().await?));
    }
    Ok(redirect(&format!("{}/members/user/{}", ctx.base(), pid)))
}

#[derive(Template)]
#[template(path = "user_delete.html")]
struct DeletePage {
    l: Layout,
    base: String,
    m: MemberRow,
}

/// "Delete from organization" asks first: unlike Remove, the user is gone from the directory.
async fn delete_confirm(State(st): State<AppState>, s: Session, Path((id, pid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, "user", &pid).await?;
    let actions = st.services.member_actions(ctx.actor(), ctx.id, "user", &pid).await?;
    if let Some(e) = actions.delete_from_organization.refusal() {
        return Err(e.clone().into());
    }
    Ok(render(&DeletePage { l: ctx.layout(format!("Delete {}", m.display_name), "users"), base: ctx.base(), m: row(&m, ctx.program()) }))
}

async fn delete(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    st.services.delete_member_from_organization(&s.actor, ctx.id, &pid).await?;
    Ok(redirect(&format!("{}/users", ctx.base())))
}
