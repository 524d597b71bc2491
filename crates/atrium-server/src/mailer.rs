//! SMTP delivery of the outbox (lettre, pooled, plain / STARTTLS / implicit TLS) and the worker
//! that runs it on every node. The outbox itself (claims, retries, dead letters) lives in the
//! core's `services::mail`.

use crate::config::Config;
use anyhow::Context;
use async_trait::async_trait;
use atrium_core::model::Mail;
use atrium_core::ports::{MailError, Mailer};
use atrium_core::services::Services;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Builds the transport from the configuration; `None` when no `smtp_host` is set.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(host) = config.smtp_host.clone() else { return Ok(None) };
        let tls = || -> anyhow::Result<TlsParameters> {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(path) = &config.smtp_ca_cert {
                let pem = std::fs::read(path).with_context(|| format!("reading smtp_ca_cert {}", path.display()))?;
                b = b.add_root_certificate(Certificate::from_pem(&pem).context("smtp_ca_cert is not a PEM certificate")?);
            }
            b.build_rustls().context("SMTP TLS settings")
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(config.smtp_port())
            .timeout(Some(Duration::from_secs(config.smtp_timeout_seconds)))
            .pool_config(PoolConfig::new().max_size(4));
        builder = match config.smtp_security.as_str() {
            "tls" => builder.tls(Tls::Wrapper(tls()?)),
            "none" => {
                tracing::warn!(host = %host, "smtp_security = none: mail to this SMTP server is not encrypted");
                builder.tls(Tls::None)
            }
            _ => builder.tls(Tls::Required(tls()?)),
        };
        if let (Some(u), Some(p)) = (&config.smtp_username, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let from: Mailbox = config.mail_from.parse().context("mail_from")?;
        Ok(Some(Self { transport: builder.build(), from }))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let permanent = |m: String| MailError { permanent: true, message: m };
        let to: Mailbox = mail.to.as_str().parse().map_err(|e| permanent(format!("recipient: {e}")))?;
        // The subject was built from validated names; still, a header is one line.
        if mail.subject.chars().any(char::is_control) {
            return Err(permanent("the subject contains a line break".into()));
        }
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@atrium>", mail.id)))
            .multipart(MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone()))
            .map_err(|e| permanent(format!("building the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server refused this recipient or message; retrying will not help.
            Err(e) if e.is_permanent() => Err(permanent(e.to_string())),
            Err(e) => Err(MailError { permanent: false, message: e.to_string() }),
        }
    }
}

/// Delivers due mail every `poll` until `stop` is raised. Every node runs one; claims keep
/// them apart. It claims one mail at a time, so a stop waits for at most the mail being sent
/// (bounded by `smtp_timeout_seconds`) and never leaves claimed mail waiting for its lease.
pub async fn run_worker(services: Services, mailer: Arc<dyn Mailer>, poll: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut sent, mut retried, mut dead) = (0, 0, 0);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping(stop.clone()) => return,
        }
        // Drain: a delivered mail means more may be due.
        while !stop_raised(&stop) {
            match services.deliver_due_mail(mailer.as_ref(), 1).await {
                Ok(r) if r.sent + r.retried + r.dead == 0 => break,
                Ok(r) => {
                    sent += r.sent;
                    retried += r.retried;
                    dead += r.dead;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mail delivery pass failed");
                    break;
                }
            }
        }
        if retried + dead > 0 {
            tracing::warn!(sent, retried, dead, "some mail could not be delivered; see `atrium mail list`");
        }
        (sent, retried, dead) = (0, 0, 0);
    }
}

async fn stopping(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn stop_raised(stop: &tokio::sync::watch::Receiver<bool>) -> bool {
    *stop.borrow()
}
