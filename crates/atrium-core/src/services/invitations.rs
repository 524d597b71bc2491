//! Guest invitations (R11, seed 002 "Invite outside users", ambiguity A7).
//!
//! An invitation creates a guest user in the inviter's tenant at once, with the account access
//! chosen for it, so the Users list shows it as "Invitation pending". The guest has no password
//! and cannot sign in until they redeem the emailed link and choose one. The link carries a
//! random token of which only the SHA-256 is stored; "Resend" replaces it, so older links stop
//! working. The mail is written to the outbox in the same transaction as the invitation.

use super::mail::{MailContent, invitation_mail};
use super::{Services, authz, details, opt};
use crate::access::{GrantInput, Level};
use crate::actor::Actor;
use crate::domain::{DisplayName, Email, Password, ReplyUrl, Upn};
use crate::error::{Error, ErrorCode};
use crate::ids::{AccountId, InvitationId, MailId, UserId};
use crate::model::{Invitation, InvitationStatus, Mail, MailStatus, Member, PrincipalRef, Tenant, User, UserType};
use crate::ports::store::MailOf;
use crate::ports::{StoreError, Tx};
use crate::secret::Secret;
use crate::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashSet;

/// At most this many addresses per "Invite outside users" (seed 002).
pub const MAX_INVITEES: usize = 10;
/// A customized message is body text; keep it to a paragraph or two.
const MAX_MESSAGE_CHARS: usize = 1000;
const TOKEN_PREFIX: &str = "inv_";

/// What an adapter collected for an invitation.
#[derive(Debug, Clone, Default)]
pub struct InviteGuests {
    /// One to ten addresses, as typed: separated by `,` or `;` (and whitespace), or one per item.
    pub emails: Vec<String>,
    /// Optional display name of the guest (only with a single address).
    pub display_name: Option<String>,
    /// Optional personal message added to the mail body.
    pub message: Option<String>,
    /// Where the redemption page sends the guest afterwards.
    pub redirect_url: Option<String>,
    /// False: no mail is queued; the caller hands the redemption link over itself (Graph's
    /// `sendInvitationMessage`).
    pub send_message: bool,
}

/// A created (or resent) invitation. `redeem_url` carries the token and exists only in this
/// reply and in the queued mail.
#[derive(Debug, Clone)]
pub struct SentInvitation {
    pub invitation: Invitation,
    pub user: User,
    pub redeem_url: Secret,
    /// The queued mail (none when the caller hands the link over itself); its state is
    /// [`Services::mail_state`].
    pub mail: Option<Mail>,
}

/// An invitation with the state of its newest mail, for lists and status pages.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: Invitation,
    /// Shown instead of the status once the expiry has passed.
    pub expired: bool,
    pub mail: Option<Mail>,
}

/// What the redemption page shows before the guest chooses a password.
#[derive(Debug, Clone)]
pub struct RedemptionView {
    pub invitation: Invitation,
    pub user: User,
    pub tenant: Tenant,
}

/// Splits "a@x.com; b@y.com, c@z.com" into trimmed, non-empty items.
pub fn split_addresses(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|s| s.split([',', ';']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Entra's form of a guest's userPrincipalName: `alice_example.com#EXT#@<tenant domain>`.
pub fn guest_upn(email: &Email, tenant_domain: &str, field: &str) -> Result<Upn, Error> {
    let alias = format!("{}#EXT#", email.as_str().replace('@', "_"));
    Upn::parse(&format!("{alias}@{tenant_domain}")).map_err(|_| {
        Error::new(ErrorCode::InvalidEmail)
            .with_message(format!("'{email}' is too long to be a guest user name (at most 58 characters before the domain)."))
            .with_target(field)
    })
}

fn new_token(rng: &dyn crate::ports::Rng) -> Secret {
    let mut raw = [0u8; 32];
    rng.fill(&mut raw);
    Secret::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
}

fn redeem_url(base_url: &str, token: &Secret) -> Secret {
    Secret::new(format!("{}/invitations/redeem?token={}", base_url.trim_end_matches('/'), token.expose()))
}

/// A customized message: body text, so line breaks are fine, but nothing else invisible.
fn parse_message(m: Option<&str>) -> Result<Option<String>, Error> {
    opt(m, |s| {
        if s.chars().count() > MAX_MESSAGE_CHARS || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            Err(Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("'message' must be at most {MAX_MESSAGE_CHARS} characters without control characters."))
                .with_target("message"))
        } else {
            Ok(s.to_owned())
        }
    })
}

/// Validated input, before anything is written.
struct Checked {
    emails: Vec<Email>,
    display_name: Option<DisplayName>,
    message: Option<String>,
    redirect_url: Option<String>,
}

impl Services {
    /// Checks every address of a batch against the tenant: all are reported, and one bad address
    /// refuses the whole batch, so nothing is half sent.
    async fn check_invitees(&self, tx: &mut dyn Tx, tenant: &Tenant, input: &InviteGuests) -> Result<Checked, Error> {
        let items = split_addresses(&input.emails);
        if items.is_empty() {
            return Err(Error::new(ErrorCode::MissingField).with_message("Enter at least one email address.").with_target("emails"));
        }
        if items.len() > MAX_INVITEES {
            return Err(Error::new(ErrorCode::InvalidRequest)
                .with_message(format!("Invite at most {MAX_INVITEES} people at once ({} addresses given).", items.len()))
                .with_target("emails"));
        }
        let display_name = opt(input.display_name.as_deref(), |s| DisplayName::parse(s, "displayName"))?;
        if display_name.is_some() && items.len() > 1 {
            return Err(Error::new(ErrorCode::InvalidRequest)
                .with_message("A display name can be given only when inviting one person.")
                .with_target("displayName"));
        }
        let message = parse_message(input.message.as_deref())?;
        let redirect_url = opt(input.redirect_url.as_deref(), |s| {
            let u = ReplyUrl::parse(s, "inviteRedirectUrl")?;
            // The guest lands on a web page: https (http only for localhost, as ReplyUrl checks).
            if u.as_str().to_ascii_lowercase().starts_with("https://") || u.as_str().to_ascii_lowercase().starts_with("http://") {
                Ok(u.as_str().to_owned())
            } else {
                Err(Error::new(ErrorCode::InvalidUrl).with_message("'inviteRedirectUrl' must be an https URL.").with_target("inviteRedirectUrl"))
            }
        })?;
        let mut seen = HashSet::new();
        let mut emails = Vec::new();
        let mut problems = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("emails[{i}]");
            let checked: Result<Email, Error> = async {
                let email = Email::parse(item, &field).map_err(|e| e.with_message(format!("'{}' is not a valid email address.", item.escape_debug())))?;
                if !seen.insert(email.normalized()) {
                    return Err(Error::new(ErrorCode::DuplicateAddress).with_message(format!("'{email}' appears more than once.")).with_target(&field));
                }
                // An address of the tenant's own domain is one of its members (or would be): a
                // guest is an outsider, so it is never invited into its own tenant.
                let own_domain = email.normalized().rsplit_once('@').is_some_and(|(_, d)| d == tenant.domain.as_str().to_lowercase());
                if own_domain {
                    let member = tx.find_user_by_upn(tenant.id, &email.normalized()).await?.is_some();
                    return Err(Error::new(ErrorCode::AlreadyInTenant)
                        .with_message(if member {
                            format!("'{email}' is a user of {}: add them with \"Add existing users\" instead of inviting them as a guest.", tenant.domain)
                        } else {
                            format!("'{email}' is an address of {} itself: create the user instead of inviting a guest.", tenant.domain)
                        })
                        .with_target(&field));
                }
                let upn = guest_upn(&email, tenant.domain.as_str(), &field)?;
                let present = tx.find_user_by_mail(tenant.id, &email.normalized()).await?.is_some()
                    || tx.find_user_by_upn(tenant.id, &upn.normalized()).await?.is_some();
                if present {
                    return Err(Error::new(ErrorCode::AlreadyInTenant)
                        .with_message(format!("'{email}' is already a user of {}, or already invited.", tenant.domain))
                        .with_target(&field));
                }
                Ok(email)
            }
            .await;
            match checked {
                Ok(e) => emails.push(e),
                Err(e) if e.code == ErrorCode::Internal || e.code == ErrorCode::Unavailable => return Err(e),
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            let first = problems[0].target.clone().unwrap_or_else(|| "emails".into());
            return Err(Error::new(ErrorCode::InvalidRequest)
                .with_message(format!(
                    "{} of the {} addresses cannot be invited, so nobody was invited: {}",
                    problems.len(),
                    items.len(),
                    problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join(" ")
                ))
                .with_target(first)
                .with_details(problems));
        }
        Ok(Checked { emails, display_name, message, redirect_url })
    }

    fn invitation_expiry(&self, now: Timestamp) -> Option<Timestamp> {
        self.policy.invitation_seconds.map(|s| now.plus_seconds(s))
    }

    /// Writes one invitation: the guest user, its invitation, and its mail (if sent).
    #[allow(clippy::too_many_arguments)]
    async fn write_invitation(
        &self,
        tx: &mut dyn Tx,
        actor: &Actor,
        tenant: &Tenant,
        account: Option<(AccountId, String)>,
        email: &Email,
        display_name: Option<DisplayName>,
        checked: &Checked,
        send: bool,
        base_url: &str,
        inviter_name: &str,
    ) -> Result<SentInvitation, Error> {
        let now = self.clock.now();
        let upn = guest_upn(email, tenant.domain.as_str(), "emails")?;
        let display_name = match display_name {
            Some(d) => d,
            None => DisplayName::parse(email.as_str(), "displayName")?,
        };
        let user = User {
            user_type: UserType::Guest,
            mail: Some(email.clone()),
            password_hash: None,
            ..User::new_member(UserId::random(self.rng.as_ref()), tenant.id, upn, display_name, crate::domain::PasswordHash(String::new()), now)
        };
        match tx.insert_user(&user).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::AlreadyInTenant).with_target("emails")),
            r => r?,
        }
        let token = new_token(self.rng.as_ref());
        let invitation = Invitation {
            id: InvitationId::random(self.rng.as_ref()),
            tenant_id: tenant.id,
            account_id: account.as_ref().map(|(a, _)| *a),
            user_id: user.id,
            email: email.clone(),
            token_hash: token.sha256(),
            status: InvitationStatus::Pending,
            redirect_url: checked.redirect_url.clone(),
            invited_by: Some(actor.user_id),
            resend_count: 0,
            created_at: now,
            updated_at: now,
            expires_at: self.invitation_expiry(now),
            accepted_at: None,
        };
        match tx.insert_invitation(&invitation).await {
            Err(StoreError::Conflict) => return Err(Error::new(ErrorCode::AlreadyInTenant).with_target("emails")),
            r => r?,
        }
        let url = redeem_url(base_url, &token);
        let what = account.as_ref().map(|(_, name)| name.as_str()).unwrap_or(tenant.display_name.as_str());
        let mail = if send {
            let content = invitation_mail(inviter_name, what, tenant.domain.as_str(), checked.message.as_deref(), &url, invitation.expires_at);
            Some(self.queue_mail(tx, email, content, &invitation).await?)
        } else {
            None
        };
        Ok(SentInvitation { invitation, user, redeem_url: url, mail })
    }

    /// Writes a mail to the outbox (in the caller's transaction).
    async fn queue_mail(&self, tx: &mut dyn Tx, to: &Email, content: MailContent, invitation: &Invitation) -> Result<Mail, Error> {
        let now = self.clock.now();
        let mail = Mail {
            id: MailId::random(self.rng.as_ref()),
            to: to.clone(),
            subject: content.subject,
            body_text: content.text,
            body_html: content.html,
            status: MailStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            invitation_id: Some(invitation.id),
            account_id: invitation.account_id,
            tenant_id: Some(invitation.tenant_id),
        };
        tx.insert_mail(&mail).await?;
        Ok(mail)
    }

    /// "Invite outside users" (R11): needs a global admin of the tenant signed in through; the
    /// guests get `grant` on the account at once and can use it after accepting.
    pub async fn invite_guests(&self, actor: &Actor, account: AccountId, input: InviteGuests, grant: &GrantInput, base_url: &str) -> Result<Vec<SentInvitation>, Error> {
        let mut tx = self.write().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        Self::require_company(&caller)?;
        caller.require_directory_admin_of(actor.tenant_id)?;
        let grant = self.checked_grant(tx.as_mut(), &caller, grant).await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        let checked = self.check_invitees(tx.as_mut(), &tenant, &input).await?;
        let inviter = inviter_name(tx.as_mut(), actor).await?;
        let grant_json = grant.to_json();
        let mut sent = Vec::with_capacity(checked.emails.len());
        for (i, email) in checked.emails.iter().enumerate() {
            let s = self
                .write_invitation(
                    tx.as_mut(),
                    actor,
                    &tenant,
                    Some((account, caller.account.name.to_string())),
                    email,
                    checked.display_name.clone(),
                    &checked,
                    input.send_message,
                    base_url,
                    &inviter,
                )
                .await
                .map_err(|e| e.with_target(format!("emails[{i}]")))?;
            let m = Member {
                account_id: account,
                tenant_id: tenant.id,
                principal: PrincipalRef::User(s.user.id),
                grant_json: grant_json.clone(),
                added_by: Some(actor.user_id),
                added_at: s.invitation.created_at,
                updated_at: s.invitation.created_at,
            };
            tx.insert_member(&m).await.map_err(|e| match e {
                StoreError::MissingReference => Error::new(ErrorCode::TenantNotAssociated),
                e => Error::from(e),
            })?;
            tx.insert_audit(
                &self
                    .audit(
                        Some(actor),
                        "account.invitation.create",
                        "user",
                        s.user.id,
                        Some(tenant.id),
                        details(&[("invitationId", &s.invitation.id.to_string()), ("email", email.as_str()), ("grant", &grant_json)]),
                    )
                    .in_account(account),
            )
            .await?;
            sent.push(s);
        }
        tx.commit().await?;
        Ok(sent)
    }

    /// Graph's `POST /invitations`: a guest in the caller's tenant, without account access.
    /// Needs a global administrator of the tenant.
    pub async fn invite_guest_to_tenant(&self, actor: &Actor, input: InviteGuests, base_url: &str) -> Result<SentInvitation, Error> {
        authz::directory(actor, actor.tenant_id, crate::graph::DirectoryOp::InviteGuests)?;
        if actor.tenant_id == crate::ids::PERSONAL_ACCOUNTS_TENANT {
            return Err(Error::new(ErrorCode::ProtectedObject).with_message("The personal-accounts tenant has no guests; sign in through an organization's tenant."));
        }
        if split_addresses(&input.emails).len() > 1 {
            return Err(Error::new(ErrorCode::InvalidRequest).with_message("Graph invites one person per request.").with_target("invitedUserEmailAddress"));
        }
        let mut tx = self.write().await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        let checked = self.check_invitees(tx.as_mut(), &tenant, &input).await.map_err(|mut e| {
            // Graph names its own field.
            if e.target.as_deref().is_some_and(|t| t.starts_with("emails")) {
                e.target = Some("invitedUserEmailAddress".into());
            }
            e
        })?;
        let inviter = inviter_name(tx.as_mut(), actor).await?;
        let email = checked.emails.first().cloned().ok_or_else(|| Error::new(ErrorCode::MissingField).with_target("invitedUserEmailAddress"))?;
        let s = self
            .write_invitation(tx.as_mut(), actor, &tenant, None, &email, checked.display_name.clone(), &checked, input.send_message, base_url, &inviter)
            .await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "invitation.create",
            "user",
            s.user.id,
            Some(tenant.id),
            details(&[("invitationId", &s.invitation.id.to_string()), ("email", email.as_str()), ("sendInvitationMessage", &input.send_message.to_string())]),
        ))
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Loads an invitation of `account` that the caller may manage (global admin of its tenant).
    async fn managed_invitation(&self, tx: &mut dyn Tx, actor: &Actor, account: AccountId, id: &str) -> Result<Invitation, Error> {
        let caller = self.caller_in(tx, actor, account).await?;
        let inv = account_invitation(tx, account, id).await?;
        caller.require_directory_admin_of(inv.tenant_id)?;
        Ok(inv)
    }

    /// "Resend invitation": a new link (the old one stops working) and a new mail.
    pub async fn resend_invitation(&self, actor: &Actor, account: AccountId, invitation: &str, base_url: &str) -> Result<SentInvitation, Error> {
        let mut tx = self.write().await?;
        let mut inv = self.managed_invitation(tx.as_mut(), actor, account, invitation).await?;
        if inv.status != InvitationStatus::Pending {
            return Err(Error::new(ErrorCode::InvitationNotPending).with_target("invitationId"));
        }
        let user = tx.get_user(inv.tenant_id, inv.user_id).await?.ok_or_else(|| Error::new(ErrorCode::UserNotFound))?;
        let tenant = self.require_tenant(tx.as_mut(), inv.tenant_id).await?;
        let acc = tx.get_account(account).await?.ok_or_else(|| Error::new(ErrorCode::AccountNotFound))?;
        let inviter = inviter_name(tx.as_mut(), actor).await?;
        let now = self.clock.now();
        let token = new_token(self.rng.as_ref());
        inv.token_hash = token.sha256();
        inv.resend_count += 1;
        inv.updated_at = now;
        inv.expires_at = self.invitation_expiry(now);
        tx.update_invitation(&inv).await?;
        // The old link no longer works: mail still waiting to carry it must not go out.
        tx.cancel_mail(MailOf::Invitation(inv.id), now, "Cancelled: the invitation was sent again with a new link").await?;
        let url = redeem_url(base_url, &token);
        let content = invitation_mail(&inviter, acc.name.as_str(), tenant.domain.as_str(), None, &url, inv.expires_at);
        let mail = self.queue_mail(tx.as_mut(), &inv.email, content, &inv).await?;
        tx.insert_audit(
            &self
                .audit(Some(actor), "account.invitation.resend", "user", inv.user_id, Some(inv.tenant_id), details(&[("invitationId", &inv.id.to_string()), ("resendCount", &inv.resend_count.to_string())]))
                .in_account(account),
        )
        .await?;
        tx.commit().await?;
        Ok(SentInvitation { invitation: inv, user, redeem_url: url, mail: Some(mail) })
    }

    /// Revokes a pending invitation: the link stops working, and the guest (who never signed
    /// in) is deleted with its account access. The invitation stays listed as revoked.
    pub async fn revoke_invitation(&self, actor: &Actor, account: AccountId, invitation: &str) -> Result<Invitation, Error> {
        let mut tx = self.write().await?;
        let mut inv = self.managed_invitation(tx.as_mut(), actor, account, invitation).await?;
        if inv.status != InvitationStatus::Pending {
            return Err(Error::new(ErrorCode::InvitationNotPending).with_target("invitationId"));
        }
        inv.status = InvitationStatus::Revoked;
        inv.updated_at = self.clock.now();
        tx.update_invitation(&inv).await?;
        tx.cancel_mail(MailOf::Invitation(inv.id), inv.updated_at, "Cancelled: the invitation was revoked").await?;
        tx.delete_user(inv.tenant_id, inv.user_id).await?;
        tx.insert_audit(
            &self
                .audit(Some(actor), "account.invitation.revoke", "user", inv.user_id, Some(inv.tenant_id), details(&[("invitationId", &inv.id.to_string()), ("email", inv.email.as_str())]))
                .in_account(account),
        )
        .await?;
        tx.commit().await?;
        Ok(inv)
    }

    /// The account's invitations, newest first, with their mail status (`Account users` readers).
    pub async fn list_invitations(&self, actor: &Actor, account: AccountId) -> Result<Vec<InvitationView>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        let now = self.clock.now();
        // Two queries, not one per invitation: every mail of the account, newest first, of
        // which each invitation keeps its first.
        let mut newest: std::collections::HashMap<InvitationId, Mail> = std::collections::HashMap::new();
        for m in tx.list_account_mail(account).await? {
            if let Some(i) = m.invitation_id {
                newest.entry(i).or_insert(m);
            }
        }
        let list = tx.list_invitations(account).await?;
        Ok(list.into_iter().map(|inv| InvitationView { expired: is_expired(&inv, now), mail: newest.remove(&inv.id), invitation: inv }).collect())
    }

    /// The pending invitation of one guest of the account, if any (the guest's page).
    pub async fn pending_invitation_of(&self, actor: &Actor, account: AccountId, user: &str) -> Result<Option<InvitationView>, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadOnly)?;
        let user = UserId::parse(user, "userId")?;
        let mut tx = self.read().await?;
        match tx.pending_invitation_of_user(user).await?.filter(|i| i.account_id == Some(account)) {
            Some(inv) => Ok(Some(self.invitation_view(tx.as_mut(), inv).await?)),
            None => Ok(None),
        }
    }

    pub async fn get_invitation(&self, actor: &Actor, account: AccountId, invitation: &str) -> Result<InvitationView, Error> {
        let caller = self.account_caller(actor, account).await?;
        caller.require("account_users", Level::ReadOnly)?;
        let mut tx = self.read().await?;
        let inv = account_invitation(tx.as_mut(), account, invitation).await?;
        self.invitation_view(tx.as_mut(), inv).await
    }

    /// An invitation with its newest mail.
    async fn invitation_view(&self, tx: &mut dyn Tx, inv: Invitation) -> Result<InvitationView, Error> {
        let mail = tx.list_mail(Some(inv.id), None, 1).await?.into_iter().next();
        Ok(InvitationView { expired: is_expired(&inv, self.clock.now()), invitation: inv, mail })
    }

    /// The pending invitation behind a redemption link, or why the link no longer works.
    async fn live_invitation(&self, tx: &mut dyn Tx, token: &Secret) -> Result<Invitation, Error> {
        let not_found = || Error::new(ErrorCode::InvitationNotFound).with_target("token");
        if !token.expose().starts_with(TOKEN_PREFIX) {
            return Err(not_found());
        }
        let inv = tx.find_invitation_by_token_hash(&token.sha256()).await?.ok_or_else(not_found)?;
        match inv.status {
            InvitationStatus::Accepted => Err(Error::new(ErrorCode::InvitationRedeemed).with_target("token")),
            InvitationStatus::Revoked => Err(Error::new(ErrorCode::InvitationRevoked).with_target("token")),
            InvitationStatus::Pending if is_expired(&inv, self.clock.now()) => Err(Error::new(ErrorCode::InvitationExpired).with_target("token")),
            InvitationStatus::Pending => Ok(inv),
        }
    }

    /// What the redemption page shows (no sign-in: the link is the credential).
    pub async fn invitation_for_redemption(&self, token: &Secret) -> Result<RedemptionView, Error> {
        let mut tx = self.read().await?;
        let invitation = self.live_invitation(tx.as_mut(), token).await?;
        let user = tx.get_user(invitation.tenant_id, invitation.user_id).await?.ok_or_else(|| Error::new(ErrorCode::InvitationNotFound).with_target("token"))?;
        let tenant = self.require_tenant(tx.as_mut(), invitation.tenant_id).await?;
        Ok(RedemptionView { invitation, user, tenant })
    }

    /// Redeems a link once: the guest sets a password and can sign in from then on with their
    /// email address. A second use, a replaced link or an expired one is refused.
    pub async fn redeem_invitation(&self, token: &Secret, password: &str) -> Result<RedemptionView, Error> {
        // Checked first so a dead link is reported before password rules.
        self.live_invitation(self.read().await?.as_mut(), token).await?;
        let password = Password::parse(password, "password")?;
        let hash = self.hasher.hash(password.secret()).await?;
        let mut tx = self.write().await?;
        let mut inv = self.live_invitation(tx.as_mut(), token).await?;
        let now = self.clock.now();
        if !tx.accept_invitation(inv.id, &inv.token_hash, now).await? {
            return Err(Error::new(ErrorCode::InvitationRedeemed).with_target("token"));
        }
        let mut user = tx.get_user(inv.tenant_id, inv.user_id).await?.ok_or_else(|| Error::new(ErrorCode::InvitationNotFound).with_target("token"))?;
        user.password_hash = Some(hash);
        user.must_change_password = false;
        user.updated_at = now;
        tx.update_user(&user).await?;
        let mut event = self.audit(None, "invitation.redeem", "user", user.id, Some(inv.tenant_id), details(&[("invitationId", &inv.id.to_string())]));
        if let Some(a) = inv.account_id {
            event = event.in_account(a);
        }
        tx.insert_audit(&event).await?;
        let tenant = self.require_tenant(tx.as_mut(), inv.tenant_id).await?;
        tx.commit().await?;
        inv.status = InvitationStatus::Accepted;
        inv.accepted_at = Some(now);
        Ok(RedemptionView { invitation: inv, user, tenant })
    }

    /// Ids of the account's guests whose invitation is still pending ("Invitation pending").
    pub(crate) async fn pending_guests(&self, tx: &mut dyn Tx, account: AccountId) -> Result<HashSet<UserId>, Error> {
        Ok(tx
            .list_invitations(account)
            .await?
            .into_iter()
            .filter(|i| i.status == InvitationStatus::Pending)
            .map(|i| i.user_id)
            .collect())
    }

    /// The tenant a guest signs in to by email, if `username` is a guest's address there.
    pub(crate) fn guest_upn_for(username: &str, tenant: &Tenant) -> Option<Upn> {
        let email = Email::parse(username, "username").ok()?;
        guest_upn(&email, tenant.domain.as_str(), "username").ok()
    }
}

/// The name the invitation mail gives for whoever invites (blank if unknown: the mail says
/// "An administrator").
async fn inviter_name(tx: &mut dyn Tx, actor: &Actor) -> Result<String, Error> {
    Ok(tx.get_user(actor.tenant_id, actor.user_id).await?.map(|u| u.display_name.to_string()).unwrap_or_default())
}

/// An invitation of `account` by id; others are not found.
async fn account_invitation(tx: &mut dyn Tx, account: AccountId, id: &str) -> Result<Invitation, Error> {
    let id = InvitationId::parse(id, "invitationId")?;
    tx.get_invitation(id)
        .await?
        .filter(|i| i.account_id == Some(account))
        .ok_or_else(|| Error::new(ErrorCode::InvitationNotFound).with_target("invitationId"))
}

fn is_expired(inv: &Invitation, now: Timestamp) -> bool {
    inv.status == InvitationStatus::Pending && inv.expires_at.is_some_and(|t| t <= now)
}
