//! The transactional outbox: mail is written in the same transaction as what it announces, and
//! [`Services::deliver_due_mail`] (run by a worker on every node) hands it to the [`Mailer`].
//!
//! Claims are leases: a worker marks the rows it takes `sending` until the lease ends, so
//! several nodes never take the same row, and a node that dies mid-send releases its rows when
//! the lease runs out. Failures are retried with exponential backoff; after
//! `mail_max_attempts` (or a permanent refusal) the mail is dead-lettered.
//!
//! No password ever goes into a mail: invitations carry a single-use link, and temporary
//! passwords are shown once on screen (R10), never sent.

use super::{Services, authz};
use crate::actor::Actor;
use crate::error::{Error, ErrorCode};
use crate::ids::{InvitationId, MailId};
use crate::model::{Mail, MailStatus};
use crate::ports::Mailer;
use crate::secret::Secret;
use crate::time::Timestamp;

/// How long a claimed mail stays with its worker before another may take it. Longer than any
/// SMTP exchange (the transport times out well before).
pub const MAIL_LEASE_SECONDS: i64 = 300;
/// The longest wait between two attempts.
const MAX_BACKOFF_SECONDS: i64 = 3600;

/// A rendered mail: a subject and the same words as plain text and HTML.
#[derive(Debug, Clone)]
pub struct MailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retried: u32,
    pub dead: u32,
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A header value must be one line: anything that could end it is replaced.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The invitation mail (seed 002: "each invitee receives an email invitation").
pub fn invitation_mail(inviter: &str, account: &str, tenant_domain: &str, message: Option<&str>, url: &Secret, expires: Option<Timestamp>) -> MailContent {
    let inviter = if inviter.trim().is_empty() { "An administrator" } else { inviter };
    let subject = one_line(&format!("{inviter} invited you to access {account}"));
    let expiry = expires.map(|t| format!("The invitation expires on {}.", t.to_rfc3339())).unwrap_or_default();
    let mut text = format!("{inviter} invited you to access {account} as a guest of the organization {tenant_domain}.\n\n");
    if let Some(m) = message {
        text.push_str(&format!("Message from {inviter}:\n{m}\n\n"));
    }
    text.push_str(&format!(
        "To accept, open this link and choose a password. The link works once.\n{}\n\n{expiry}\nAfterwards, sign in with this email address.\nIf you did not expect this invitation, ignore this mail.\n",
        url.expose()
    ));
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{} invited you to access <strong>{}</strong> as a guest of the organization {}.</p>",
        html_escape(inviter),
        html_escape(account),
        html_escape(tenant_domain)
    );
    if let Some(m) = message {
        html.push_str(&format!("<p>Message from {}:</p><blockquote>{}</blockquote>", html_escape(inviter), html_escape(m).replace('\n', "<br>")));
    }
    html.push_str(&format!(
        "<p><a href=\"{0}\">Accept the invitation</a></p><p>Or paste this link into your browser: {0}</p><p>The link works once. {1}</p><p>Afterwards, sign in with this email address.</p></body></html>",
        html_escape(url.expose()),
        html_escape(&expiry)
    ));
    MailContent { subject, text, html }
}

/// What an unsent mail's state says when this deployment has no mail server.
pub const NO_MAIL_SERVER: &str = "Not sent: no mail server is configured";

/// Where a mail is, in the words every interface shows: the stored status alone would call a
/// mail "queued" that no server will ever send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailState {
    /// `queued`, `sending`, `sent`, `dead`, `cancelled`, or `not_sent`: queued, but no mail server is
    /// configured, so it waits in the outbox (it goes out once one is).
    pub status: &'static str,
    /// The same in a sentence, e.g. "Not sent: no mail server is configured".
    pub summary: String,
}

impl Services {
    /// The state of `m` as people should read it (see [`MailState`]).
    pub fn mail_state(&self, m: &Mail) -> MailState {
        let attempts = if m.attempts == 1 { "1 attempt".to_owned() } else { format!("{} attempts", m.attempts) };
        let (status, summary) = match m.status {
            MailStatus::Queued | MailStatus::Sending if !self.policy.mail_server => ("not_sent", NO_MAIL_SERVER.to_owned()),
            MailStatus::Queued if m.attempts == 0 => ("queued", "Queued: it will be sent shortly".to_owned()),
            MailStatus::Queued => ("queued", format!("Not delivered yet after {attempts}; next try at {}", m.next_attempt_at)),
            MailStatus::Sending => ("sending", "Sending now".to_owned()),
            MailStatus::Sent => ("sent", format!("Sent at {}", m.sent_at.unwrap_or(m.next_attempt_at))),
            MailStatus::Dead => ("dead", format!("Could not be delivered ({attempts}); resend the invitation to try again")),
            MailStatus::Cancelled => ("cancelled", m.last_error.clone().unwrap_or_else(|| "Cancelled before it was sent".to_owned())),
        };
        MailState { status, summary }
    }
}

impl Services {
    /// One delivery pass: claims due mail, sends it, and records each outcome.
    pub async fn deliver_due_mail(&self, mailer: &dyn Mailer, batch: u32) -> Result<DeliveryReport, Error> {
        let now = self.clock.now();
        let claimed = {
            let mut tx = self.write().await?;
            let rows = tx.claim_mail(now, now.plus_seconds(MAIL_LEASE_SECONDS), batch).await?;
            tx.commit().await?;
            rows
        };
        let mut report = DeliveryReport::default();
        for mail in claimed {
            let outcome = mailer.send(&mail).await;
            let at = self.clock.now();
            let (status, next, error) = match outcome {
                Ok(()) => (MailStatus::Sent, at, None),
                Err(e) if e.permanent || mail.attempts >= self.policy.mail_max_attempts => (MailStatus::Dead, at, Some(e.message)),
                Err(e) => (MailStatus::Queued, at.plus_seconds(self.backoff_seconds(mail.attempts)), Some(e.message)),
            };
            match status {
                MailStatus::Sent => report.sent += 1,
                MailStatus::Dead => report.dead += 1,
                _ => report.retried += 1,
            }
            let mut tx = self.write().await?;
            tx.finish_mail(mail.id, status, at, next, error.as_deref()).await?;
            tx.commit().await?;
        }
        Ok(report)
    }

    /// Exponential backoff after the `attempts`-th failure: base, 2×base, 4×base… up to an hour.
    fn backoff_seconds(&self, attempts: i32) -> i64 {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
        self.policy.mail_retry_seconds.saturating_mul(1_i64 << exp).min(MAX_BACKOFF_SECONDS)
    }

    /// The outbox, newest first (instance administrators: it spans every tenant).
    pub async fn list_mail(&self, actor: &Actor, invitation: Option<&str>, status: Option<&str>, limit: u32) -> Result<Vec<Mail>, Error> {
        authz::instance_admin(actor)?;
        let invitation = invitation.map(|i| InvitationId::parse(i, "invitationId")).transpose()?;
        let status = status
            .map(|s| {
                // `not_sent` is how a queued mail reads without a mail server (MailState).
                MailStatus::parse(if s == "not_sent" { "queued" } else { s }).ok_or_else(|| {
                    Error::new(ErrorCode::InvalidRequest).with_message("'status' must be queued, not_sent, sending, sent, dead or cancelled.").with_target("status")
                })
            })
            .transpose()?;
        if !(1..=200).contains(&limit) {
            return Err(Error::new(ErrorCode::InvalidLimit).with_target("limit"));
        }
        let mut tx = self.read().await?;
        tx.list_mail(invitation, status, limit).await.map_err(Error::from)
    }

    pub async fn get_mail(&self, actor: &Actor, id: &str) -> Result<Mail, Error> {
        authz::instance_admin(actor)?;
        let id = MailId::parse(id, "mailId")?;
        let mut tx = self.read().await?;
        tx.get_mail(id).await?.ok_or_else(|| Error::new(ErrorCode::MailNotFound).with_target("mailId"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_mail_escapes_html_and_keeps_the_subject_on_one_line() {
        let url = Secret::new("https://x.test/invitations/redeem?token=inv_a&b");
        let m = invitation_mail("Eve <script>", "Fabrikam\r\nBcc: x@y.z", "f.test", Some("hi\n<b>there</b>"), &url, None);
        assert!(!m.subject.contains('\r') && !m.subject.contains('\n'), "{}", m.subject);
        assert!(m.html.contains("Eve &lt;script&gt;") && m.html.contains("&lt;b&gt;there") && m.html.contains("token=inv_a&amp;b"));
        assert!(m.text.contains("token=inv_a&b"));
    }
}
