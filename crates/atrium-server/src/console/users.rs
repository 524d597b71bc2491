//! Users: create a new user (its temporary password shown once), the user's page, and
//! password reset (the new temporary password shown once). Also the member page dispatcher.

use super::boxes::{CheckBox, group_boxes};
use super::grant::{GrantEditor, grant_input};
use super::members::{MemberRow, find_member, products, row};
use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, optional, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::ErrorCode;
use atrium_core::services::NewUser;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/users/new", get(create_form).post(create))
        .route("/accounts/{accountId}/members/{type}/{principalId}", get(detail))
        .route("/accounts/{accountId}/members/user/{principalId}/reset-password", post(reset_password))
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
    /// Why Reset password is not offered, when the page does not already say it.
    reset_why: Option<String>,
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
                Some(e) if e.code != ErrorCode::GuestNotAccepted => Some(format!("Resetting the password needs a global administrator signed in through {}.", m.tenant_domain)),
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
