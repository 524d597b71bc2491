//! "Invite outside users" (seed 002, R11): the invite form (1–10 addresses, one grant, an
//! optional message), its result page, and on a pending guest's page the invitation's status
//! with Resend and Revoke. The services decide everything; the redemption link exists only in
//! the mail, so no page here ever shows it.

use super::grant::{GrantEditor, describe, grant_input};
use super::members::products;
use super::{AccountCtx, Failure, FieldErrors, Layout, PageResult, Post, Session, optional, redirect, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::model::{InvitationStatus, MailStatus};
use atrium_core::services::{InvitationView, InviteGuests, MAX_INVITEES, split_addresses};
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/users/invite", get(invite_form).post(invite))
        .route("/accounts/{accountId}/invitations/{invitationId}/resend", post(resend))
        .route("/accounts/{accountId}/invitations/{invitationId}/revoke", get(revoke_confirm).post(revoke))
}

/// One refused address of a batch: the address as typed and why.
pub struct BadAddress {
    pub address: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "user_invite.html")]
struct InvitePage {
    l: Layout,
    base: String,
    domain: String,
    max: usize,
    emails: String,
    message: String,
    editor: GrantEditor,
    errors: FieldErrors,
    bad: Vec<BadAddress>,
    blocked: Option<String>,
}

async fn invite_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let editor = GrantEditor::empty(ctx.program(), &products(&st, &ctx).await?);
    Ok(render(&InvitePage {
        l: ctx.layout("Invite outside users", "users"),
        base: ctx.base(),
        domain: ctx.tenant.domain.to_string(),
        max: MAX_INVITEES,
        emails: String::new(),
        message: String::new(),
        editor,
        errors: FieldErrors::default(),
        bad: Vec::new(),
        blocked: ctx.invite_blocked(),
    }))
}

/// Files a refused invitation under its field: the addresses (`emails`, `emails[i]`, with every
/// bad address of the batch), the message, the grant, or the whole form.
fn invite_errors(e: &Error, typed: &str) -> (FieldErrors, Vec<BadAddress>) {
    let target = e.target.as_deref().unwrap_or("");
    if target == "emails" || target.starts_with("emails[") {
        let items = split_addresses(&[typed.to_owned()]);
        let bad = e
            .details
            .iter()
            .map(|d| {
                let index = d.target.as_deref().and_then(|t| t.strip_prefix("emails[")).and_then(|t| t.strip_suffix(']')).and_then(|i| i.parse::<usize>().ok());
                BadAddress { address: index.and_then(|i| items.get(i)).cloned().unwrap_or_default(), message: d.message.clone() }
            })
            .collect::<Vec<_>>();
        let message = if bad.is_empty() {
            e.message.clone()
        } else {
            format!("{} of the {} addresses cannot be invited, so nobody was invited. Correct or remove them and try again:", bad.len(), items.len())
        };
        return (FieldErrors { fields: vec![("emails".into(), message)], general: None }, bad);
    }
    (FieldErrors::from_error(e, &["message", "grant"]), Vec::new())
}

pub struct Invited {
    pub email: String,
    pub member_url: String,
    pub access: String,
    /// "Invitation pending; …" with the mail's state: on its way, or (the service's words)
    /// not sent because no mail server is configured.
    pub status: String,
}

#[derive(Template)]
#[template(path = "user_invited.html")]
struct InvitedPage {
    l: Layout,
    base: String,
    invited: Vec<Invited>,
    /// Some mail was not sent because no mail server is configured.
    not_sent: bool,
}

async fn invite(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let emails = f.get("emails").to_owned();
    let input = InviteGuests { emails: vec![emails.clone()], display_name: None, message: f.opt("message"), redirect_url: None, send_message: true };
    let base_url = crate::identity::base_url(&st, &headers);
    match st.services.invite_guests(&s.actor, ctx.id, input, &grant_input(&f), &base_url).await {
        Ok(sent) => {
            // Only the addresses, their access and the guests' pages: the links are in the mails alone.
            // The invitations are sent: a caller who may not list members sees no access column
            // rather than losing this page; a fault still fails it.
            let members = optional(st.services.list_members(ctx.actor(), ctx.id).await)?.unwrap_or_default();
            let invited = sent
                .iter()
                .map(|x| Invited {
                    email: x.invitation.email.to_string(),
                    member_url: format!("{}/members/user/{}", ctx.base(), x.user.id),
                    access: members.iter().find(|m| m.member.principal.uuid() == x.user.id.as_uuid()).map(|m| describe(&m.grant, ctx.program())).unwrap_or_default(),
                    status: match x.mail.as_ref().map(|m| st.services.mail_state(m)) {
                        Some(m) if m.status == "not_sent" => format!("Invitation pending; {}", m.summary.to_lowercase()),
                        Some(_) => "Invitation pending; an email is on its way".into(),
                        None => "Invitation pending; no email was sent".into(),
                    },
                })
                .collect();
            let not_sent = sent.iter().filter_map(|x| x.mail.as_ref()).any(|m| st.services.mail_state(m).status == "not_sent");
            Ok(render(&InvitedPage { l: ctx.layout("Invitations sent", "users"), base: ctx.base(), invited, not_sent }))
        }
        Err(e) => {
            let (errors, bad) = invite_errors(&e, &emails);
            let editor = GrantEditor::from_form(ctx.program(), &f, &products(&st, &ctx).await?).with_error(errors.field("grant"));
            // The form again, with the service's status (400 for the addresses, 403 for a
            // caller who may not invite).
            let status = super::status_of(&e);
            Ok(render_status(
                status,
                &InvitePage {
                    l: ctx.layout("Invite outside users", "users"),
                    base: ctx.base(),
                    domain: ctx.tenant.domain.to_string(),
                    max: MAX_INVITEES,
                    emails,
                    message: f.get("message").to_owned(),
                    editor,
                    errors,
                    bad,
                    blocked: ctx.invite_blocked(),
                },
            ))
        }
    }
}

// ------------------------------------------------------------------ a pending guest's page

/// What a pending guest's page shows about its invitation and mail.
pub struct InvitationPanel {
    pub id: String,
    pub email: String,
    pub status: String,
    pub invited: String,
    pub expires: String,
    pub resend_count: i32,
    pub mail: Option<MailLine>,
    /// Whether the caller may resend and revoke (global admin of the guest's tenant).
    pub can_manage: bool,
    /// "A new invitation was sent" after a resend.
    pub resent: bool,
}

pub struct MailLine {
    /// `queued`, `sending`, `sent` or `dead`.
    pub status: &'static str,
    pub text: String,
    pub last_error: Option<String>,
}

fn mail_line(st: &AppState, m: &atrium_core::model::Mail) -> MailLine {
    let state = st.services.mail_state(m);
    if state.status == "not_sent" {
        return MailLine { status: state.status, text: state.summary, last_error: m.last_error.clone() };
    }
    let attempts = match m.attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    };
    let text = match m.status {
        MailStatus::Queued if m.attempts == 0 => "Queued: it will be sent shortly".to_owned(),
        MailStatus::Queued => format!("Queued: retrying after {attempts}, next try {}", when(m.next_attempt_at)),
        MailStatus::Sending => "Sending now".to_owned(),
        MailStatus::Sent => format!("Sent {}", m.sent_at.map(when).unwrap_or_default()),
        MailStatus::Dead => format!("Could not be delivered ({attempts}); resend the invitation to try again"),
        MailStatus::Cancelled => m.last_error.clone().unwrap_or_else(|| "Cancelled before it was sent".to_owned()),
    };
    MailLine { status: m.status.as_str(), text, last_error: m.last_error.clone() }
}

impl InvitationPanel {
    /// The newest invitation of a guest on this account, if it is still pending (and the
    /// caller may read it). `can_manage`: the service's answer for Resend and Revoke.
    pub async fn load(st: &AppState, ctx: &AccountCtx, user_id: &str, can_manage: bool, resent: bool) -> Result<Option<Self>, Failure> {
        let Some(v): Option<InvitationView> = optional(st.services.pending_invitation_of(ctx.actor(), ctx.id, user_id).await)?.flatten() else {
            return Ok(None);
        };
        let i = &v.invitation;
        Ok(Some(InvitationPanel {
            id: i.id.to_string(),
            email: i.email.to_string(),
            status: if v.expired { "Expired: the link no longer works; resend the invitation".into() } else { "Invitation pending".into() },
            invited: when(i.created_at),
            expires: i.expires_at.map(when).unwrap_or_else(|| "Never".into()),
            resend_count: i.resend_count,
            mail: v.mail.as_ref().map(|m| mail_line(st, m)),
            can_manage,
            resent,
        }))
    }
}

async fn resend(State(st): State<AppState>, headers: HeaderMap, Path((id, inv)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let base_url = crate::identity::base_url(&st, &headers);
    let sent = st.services.resend_invitation(&s.actor, ctx.id, &inv, &base_url).await?;
    Ok(redirect(&format!("{}/members/user/{}?resent=1", ctx.base(), sent.user.id)))
}

#[derive(Template)]
#[template(path = "invitation_revoke.html")]
struct RevokePage {
    l: Layout,
    base: String,
    invitation_id: String,
    user_id: String,
    email: String,
    tenant: String,
}

async fn revoke_confirm(State(st): State<AppState>, s: Session, Path((id, inv)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let v = st.services.get_invitation(&s.actor, ctx.id, &inv).await?;
    if v.invitation.status != InvitationStatus::Pending {
        return Err(Error::new(ErrorCode::InvitationNotPending).with_target("invitationId").into());
    }
    let tenant = st.services.list_account_tenants(ctx.actor(), ctx.id).await?.into_iter().find(|(t, _)| t.id == v.invitation.tenant_id).map(|(t, _)| t.domain.to_string()).unwrap_or_default();
    Ok(render(&RevokePage {
        l: ctx.layout("Revoke invitation", "users"),
        base: ctx.base(),
        invitation_id: v.invitation.id.to_string(),
        user_id: v.invitation.user_id.to_string(),
        email: v.invitation.email.to_string(),
        tenant,
    }))
}

async fn revoke(State(st): State<AppState>, Path((id, inv)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    st.services.revoke_invitation(&s.actor, ctx.id, &inv).await?;
    Ok(redirect(&format!("{}/users", ctx.base())))
}
