//! `atrium sign-ins`: the sign-in logs (`GET /api/v1/sign-ins`).

use super::tenant_id;
use crate::client::{Client, GlobalArgs, seg};
use crate::output;
use atrium_api_types::{Page, SignInLog};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SignInsCommand {
    /// List sign-in attempts, newest first (kept 30 days).
    List {
        #[command(flatten)]
        g: GlobalArgs,
        /// Only this tenant's (GUID or domain); default: the signed-in tenant, or all for instance administrators.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this user's (GUID).
        #[arg(long)]
        user_id: Option<String>,
        /// Only this application's (client id).
        #[arg(long)]
        app_id: Option<String>,
        /// `success` or `failure`.
        #[arg(long)]
        status: Option<String>,
        /// At or after this time (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Before this time (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
}

const HEADERS: &[&str] = &["time", "user", "application", "result", "address", "client app", "correlation id"];

fn row(e: &SignInLog) -> Vec<String> {
    let result = match (e.status.error_code, &e.status.failure_reason) {
        (0, _) => "success".to_owned(),
        (code, Some(reason)) => format!("{code}: {reason}"),
        (code, None) => code.to_string(),
    };
    vec![
        e.created_date_time.clone(),
        output::opt(&e.user_principal_name),
        e.app_display_name.clone().or_else(|| e.app_id.clone()).unwrap_or_default(),
        result,
        output::opt(&e.ip_address),
        e.client_app_used.clone(),
        output::opt(&e.correlation_id),
    ]
}

pub async fn run(cmd: SignInsCommand) -> anyhow::Result<()> {
    match cmd {
        SignInsCommand::List { g, tenant, user_id, app_id, status, from, to, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let mut q = Vec::new();
            if let Some(t) = tenant {
                q.push(format!("tenantId={}", seg(&tenant_id(&c, &t).await?)));
            }
            for (name, v) in [("userId", user_id), ("appId", app_id), ("status", status), ("from", from), ("to", to), ("cursor", cursor)] {
                if let Some(v) = v {
                    q.push(format!("{name}={}", seg(&v)));
                }
            }
            if let Some(l) = limit {
                q.push(format!("limit={l}"));
            }
            let query = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
            let page: Page<SignInLog> = c.get(&format!("/api/v1/sign-ins{query}")).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(HEADERS, page.items.iter().map(row).collect());
            output::next_page(&page.next_cursor);
        }
    }
    Ok(())
}
