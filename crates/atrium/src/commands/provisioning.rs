//! `atrium tenant provisioning token ...`: the tokens a tenant's SCIM client presents at
//! `/scim/v2` (thin REST calls; the server's services decide who may).

use super::tenant_id;
use crate::client::{Client, GlobalArgs, confirm, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{CreatedProvisioningToken, ProvisioningToken, ProvisioningTokenList};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum ProvisioningCommand {
    /// Tokens of the tenant's SCIM client (Entra provisioning, Okta, an HR system).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token (shown once) and print the SCIM URL. The tenant becomes directory-synced.
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        /// Tenant GUID or domain.
        #[arg(long)]
        tenant: String,
        /// Names the SCIM client in lists and in the audit log, e.g. "Entra provisioning".
        #[arg(long)]
        name: String,
        /// 1 to 730 [default: 365].
        #[arg(long, allow_negative_numbers = true)]
        valid_days: Option<i64>,
    },
    /// List the tenant's tokens (never their values).
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token (its id, or its name when that is unique): the SCIM client is refused at once.
    Revoke {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        /// The token's id, or its name.
        #[arg(value_name = "TOKEN")]
        reference: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

fn path(tenant: &str) -> String {
    format!("/api/v1/tenants/{}/provisioning/tokens", seg(tenant))
}

fn status(t: &ProvisioningToken) -> &'static str {
    if t.expired { "expired" } else { "active" }
}

/// A token given by id or by its name.
fn find<'a>(list: &'a ProvisioningTokenList, reference: &str) -> anyhow::Result<&'a ProvisioningToken> {
    if let Ok(id) = uuid::Uuid::parse_str(reference) {
        if let Some(t) = list.value.iter().find(|t| t.id == id) {
            return Ok(t);
        }
        bail!("no provisioning token with the id {reference} in this tenant");
    }
    let named: Vec<&ProvisioningToken> = list.value.iter().filter(|t| t.name.eq_ignore_ascii_case(reference.trim())).collect();
    match named.as_slice() {
        [t] => Ok(t),
        [] => bail!("no provisioning token named '{reference}' in this tenant"),
        _ => bail!("{} tokens are named '{reference}': give the id (see `atrium tenant provisioning token list`)", named.len()),
    }
}

pub async fn run(cmd: ProvisioningCommand) -> anyhow::Result<()> {
    let ProvisioningCommand::Token(cmd) = cmd;
    match cmd {
        TokenCommand::Create { g, tenant, name, valid_days } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let mut body = json!({"name": name});
            if let Some(d) = valid_days {
                body["validDays"] = json!(d);
            }
            let t: CreatedProvisioningToken = c.post(&path(&tid), &body).await?;
            if g.json {
                return output::json(&t);
            }
            println!("Created provisioning token '{}' for {tenant}.", t.name);
            output::fields(&[
                ("SCIM URL (Tenant URL)", t.scim_url.clone()),
                ("token (Secret Token)", t.token.clone()),
                ("id", t.id.to_string()),
                ("expires", t.expires_at.clone()),
            ]);
            println!("The token is shown only now (only a hash is stored): copy it into your SCIM client.");
            println!("The tenant is directory-synced: its users and groups now come from the SCIM client.");
        }
        TokenCommand::List { g, tenant } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let list: ProvisioningTokenList = c.get(&path(&tid)).await?;
            if g.json {
                return output::json(&list);
            }
            let rows = list.value.iter().map(|t| vec![t.name.clone(), t.id.to_string(), t.created_at.clone(), t.expires_at.clone(), status(t).to_owned()]).collect();
            output::table(&["name", "id", "created", "expires", "status"], rows);
            println!("SCIM URL: {}", list.scim_url);
        }
        TokenCommand::Revoke { g, tenant, reference, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let list: ProvisioningTokenList = c.get(&path(&tid)).await?;
            let t = find(&list, &reference)?;
            confirm(yes, &format!("Revoke provisioning token '{}' ({}): its SCIM client is refused from its next request", t.name, t.id))?;
            c.delete(&format!("{}/{}", path(&tid), t.id)).await?;
            if g.json {
                return output::json(&json!({"revoked": t.id}));
            }
            println!("Revoked provisioning token '{}'.", t.name);
        }
    }
    Ok(())
}
