//! `atrium account invitation ...` ("Invite outside users") and `atrium mail ...` (the outbox).

use super::grant::resolved as grant;
use super::resolve;
use crate::client::{Client, GlobalArgs, confirm, seg};
use anyhow::bail;
use crate::output;
use atrium_api_types::{Invitation, InvitationList, MailStatusBody};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum InvitationCommand {
    /// Invite 1–10 outside users as guests (global admin of the tenant you signed in through).
    /// Each gets a mail with a single-use link; the access applies once they accept.
    Send {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// Addresses separated by ',' or ';' (or repeat --emails).
        #[arg(long, required = true)]
        emails: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Custom permissions as permission=level[:product,product].
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// A personal message added to the mail.
        #[arg(long)]
        message: Option<String>,
        /// Where the guest lands after accepting.
        #[arg(long)]
        redirect_url: Option<String>,
    },
    /// The account's invitations and the state of their mail.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
    },
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        id: String,
    },
    /// Send a new link; the previous one stops working.
    Resend {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        id: String,
    },
    /// Revoke a pending invitation: the link stops working and the guest is deleted.
    Revoke {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        id: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// The outbox, newest first (instance administrators).
    List {
        #[command(flatten)]
        g: GlobalArgs,
        /// queued, sending, sent or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        invitation: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        id: String,
    },
}

fn print_invitation(i: &Invitation) {
    output::fields(&[
        ("id", i.id.to_string()),
        ("email", i.email.clone()),
        ("status", i.status.clone()),
        ("user", i.user_id.to_string()),
        ("created", i.created_at.clone()),
        ("expires", output::opt(&i.expires_at)),
        ("accepted", output::opt(&i.accepted_at)),
        ("resent", i.resend_count.to_string()),
        ("mail", i.mail.as_ref().map(|m| format!("{} after {} attempt(s)", m.status, m.attempts)).unwrap_or_else(|| "-".into())),
    ]);
}

/// An invitation by id or by the invited address (the pending one if it was invited again).
async fn invitation_id(c: &Client, acc: &str, reference: &str) -> anyhow::Result<String> {
    if resolve::is_guid(reference) {
        return Ok(reference.trim().to_owned());
    }
    let r: InvitationList = c.get(&format!("/api/v1/accounts/{}/invitations", seg(acc))).await?;
    let of: Vec<&Invitation> = r.value.iter().filter(|i| i.email.eq_ignore_ascii_case(reference.trim())).collect();
    let pending: Vec<&&Invitation> = of.iter().filter(|i| i.status == "pending").collect();
    match (of.as_slice(), pending.as_slice()) {
        ([], _) => bail!("no invitation of '{reference}' in this account"),
        ([one], _) => Ok(one.id.to_string()),
        (_, [one]) => Ok(one.id.to_string()),
        _ => bail!("'{reference}' was invited {} times; give the invitation's id (see `atrium account invitation list`)", of.len()),
    }
}

fn mail_rows(list: &[MailStatusBody]) {
    output::table(
        &["id", "to", "status", "attempts", "created", "last error"],
        list.iter()
            .map(|m| vec![m.id.to_string(), m.to.clone(), m.status.clone(), m.attempts.to_string(), m.created_at.clone(), output::opt(&m.last_error)])
            .collect(),
    );
}

pub async fn run(cmd: InvitationCommand) -> anyhow::Result<()> {
    match cmd {
        InvitationCommand::Send { g, account, emails, roles, permissions, message, redirect_url } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let body = json!({"emails": emails, "grant": grant(&c, &acc, &roles, &permissions).await?, "message": message, "inviteRedirectUrl": redirect_url});
            let r: InvitationList = c.post(&format!("/api/v1/accounts/{}/invitations", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&r);
            }
            for i in &r.value {
                // The mail's state as the server reports it: without a mail server it is not sent.
                let mail = match &i.mail {
                    Some(m) => match &m.last_error {
                        Some(e) => format!("mail {}: {e}", m.status),
                        None => format!("mail {}", m.status),
                    },
                    None => "no mail".into(),
                };
                println!("Invited {} ({}): invitation pending; {mail}.", i.email, i.id);
            }
        }
        InvitationCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let r: InvitationList = c.get(&format!("/api/v1/accounts/{}/invitations", seg(&acc))).await?;
            if g.json {
                return output::json(&r);
            }
            output::table(
                &["email", "status", "id", "created", "mail"],
                r.value
                    .iter()
                    .map(|i| vec![i.email.clone(), i.status.clone(), i.id.to_string(), i.created_at.clone(), i.mail.as_ref().map(|m| m.status.clone()).unwrap_or_else(|| "-".into())])
                    .collect(),
            );
        }
        InvitationCommand::Show { g, account, id } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let id = invitation_id(&c, &acc, &id).await?;
            let i: Invitation = c.get(&format!("/api/v1/accounts/{}/invitations/{}", seg(&acc), seg(&id))).await?;
            if g.json {
                return output::json(&i);
            }
            print_invitation(&i);
        }
        InvitationCommand::Resend { g, account, id } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let id = invitation_id(&c, &acc, &id).await?;
            let i: Invitation = c.post(&format!("/api/v1/accounts/{}/invitations/{}/resend", seg(&acc), seg(&id)), &json!({})).await?;
            if g.json {
                return output::json(&i);
            }
            println!("Sent a new invitation to {}; the previous link no longer works.", i.email);
        }
        InvitationCommand::Revoke { g, account, id, yes } => {
            confirm(yes, &format!("Revoke invitation {id} and delete its guest user"))?;
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let id = invitation_id(&c, &acc, &id).await?;
            let i: Invitation = c.post(&format!("/api/v1/accounts/{}/invitations/{}/revoke", seg(&acc), seg(&id)), &json!({})).await?;
            if g.json {
                return output::json(&i);
            }
            println!("Revoked the invitation of {}.", i.email);
        }
    }
    Ok(())
}

pub async fn mail(cmd: MailCommand) -> anyhow::Result<()> {
    match cmd {
        MailCommand::List { g, status, invitation, limit } => {
            let c = Client::from_args(&g)?;
            let mut q = vec![format!("limit={limit}")];
            if let Some(s) = status {
                q.push(format!("status={}", seg(&s)));
            }
            if let Some(i) = invitation {
                q.push(format!("invitationId={}", seg(&i)));
            }
            let list: Vec<MailStatusBody> = c.get(&format!("/api/v1/mail?{}", q.join("&"))).await?;
            if g.json {
                return output::json(&list);
            }
            mail_rows(&list);
        }
        MailCommand::Show { g, id } => {
            let c = Client::from_args(&g)?;
            let m: MailStatusBody = c.get(&format!("/api/v1/mail/{}", seg(&id))).await?;
            if g.json {
                return output::json(&m);
            }
            output::fields(&[
                ("id", m.id.to_string()),
                ("to", m.to.clone()),
                ("subject", m.subject.clone()),
                ("status", m.status.clone()),
                ("attempts", m.attempts.to_string()),
                ("next attempt", m.next_attempt_at.clone()),
                ("last error", output::opt(&m.last_error)),
                ("created", m.created_at.clone()),
                ("sent", output::opt(&m.sent_at)),
            ]);
        }
    }
    Ok(())
}
