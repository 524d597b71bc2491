//! `atrium subscription ...`: subscriptions (seed 003) from the command line (thin REST calls).

use crate::client::{Client, GlobalArgs, confirm, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{AuditEvent, Coadministrator, DirectoryChange, DirectoryConsentResponse, DirectoryRequestCreated, Subscription};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum SubscriptionCommand {
    /// The subscriptions you own or co-administer.
    List {
        #[command(flatten)]
        g: GlobalArgs,
    },
    /// Create a subscription (you become its owner; sign in with a personal account).
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        name: String,
    },
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
    },
    /// Step 1, "Use existing directory": prints a consent code for that directory's global administrator.
    RequestDirectory {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
        /// The directory's GUID or domain.
        #[arg(long)]
        tenant: String,
    },
    /// Step 2: as a global administrator of the requested directory, review what the code asks,
    /// then Continue (with --yes, or at the prompt).
    Consent {
        #[command(flatten)]
        g: GlobalArgs,
        /// The consent code from `request-directory`.
        #[arg(long)]
        code: String,
        #[arg(long)]
        yes: bool,
    },
    /// Step 3, "Change the associated directory": shows what changes, then confirms (with --yes, or at the prompt).
    ChangeDirectory {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
        /// The directory's GUID.
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        yes: bool,
    },
    /// Step 4: co-administrators (users of the subscription's directory).
    #[command(subcommand)]
    Coadmin(CoadminCommand),
    /// Disable the subscription: it leaves the deployment view and refuses changes.
    Disable {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
    },
    Enable {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
    },
    /// The subscription's audit events (owner).
    Audit {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
    },
    /// Step 5: the Subscription drop-down of an account's Web storefront deployment view.
    Deployment {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
    },
}

#[derive(Subcommand)]
pub enum CoadminCommand {
    List {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
    },
    /// Add a co-administrator by email (userPrincipalName or mail).
    Add {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
        #[arg(long)]
        email: String,
    },
    Remove {
        #[command(flatten)]
        g: GlobalArgs,
        subscription: String,
        /// The user's id.
        user: String,
        #[arg(long)]
        yes: bool,
    },
}

fn table(list: &[Subscription]) {
    output::table(
        &["name", "id", "state", "directory", "role"],
        list.iter().map(|s| vec![s.name.clone(), s.id.to_string(), s.state.clone(), s.directory.domain.clone(), s.role.clone()]).collect(),
    );
}

fn show(s: &Subscription) {
    output::fields(&[
        ("name", s.name.clone()),
        ("id", s.id.to_string()),
        ("state", s.state.clone()),
        ("directory", format!("{} ({})", s.directory.domain, s.directory.id)),
        ("role", s.role.clone()),
        ("created", s.created_at.clone()),
    ]);
}

fn coadmins(list: &[Coadministrator]) {
    output::table(
        &["userPrincipalName", "name", "id", "added"],
        list.iter().map(|c| vec![c.user_principal_name.clone(), c.display_name.clone(), c.user_id.to_string(), output::opt(&c.added_at)]).collect(),
    );
}

fn path(subscription: &str) -> String {
    format!("/api/v1/subscriptions/{}", seg(subscription))
}

pub async fn run(cmd: SubscriptionCommand) -> anyhow::Result<()> {
    match cmd {
        SubscriptionCommand::List { g } => {
            let list: Vec<Subscription> = Client::from_args(&g)?.get("/api/v1/subscriptions").await?;
            if g.json {
                return output::json(&list);
            }
            table(&list);
        }
        SubscriptionCommand::Create { g, name } => {
            let s: Subscription = Client::from_args(&g)?.post("/api/v1/subscriptions", &json!({"name": name})).await?;
            if g.json {
                return output::json(&s);
            }
            println!("Created subscription {} ({}). It trusts {} until you map another directory.", s.name, s.id, s.directory.domain);
        }
        SubscriptionCommand::Show { g, subscription } => {
            let s: Subscription = Client::from_args(&g)?.get(&path(&subscription)).await?;
            if g.json {
                return output::json(&s);
            }
            show(&s);
        }
        SubscriptionCommand::RequestDirectory { g, subscription, tenant } => {
            let r: DirectoryRequestCreated = Client::from_args(&g)?.post(&format!("{}/directory-requests", path(&subscription)), &json!({"tenant": tenant})).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Asked to use {} until {}.", r.directory.domain, r.expires_at);
            println!("A global administrator of {} signs in with its credentials and runs:", r.directory.domain);
            println!("  atrium subscription consent --code {}", r.consent_code);
        }
        SubscriptionCommand::Consent { g, code, yes } => {
            let c = Client::from_args(&g)?;
            let asked: DirectoryConsentResponse = c.post("/api/v1/directory-consents/review", &json!({"code": code})).await?;
            if !g.json {
                println!("{} asks to use your directory {} with the subscription {}.", asked.owner_display_name, asked.directory.domain, asked.subscription_name);
            }
            ask(yes, "Continue")?;
            let r: DirectoryConsentResponse = c.post("/api/v1/directory-consents", &json!({"code": code})).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Subscription {} may now use {}; its owner can map it.", r.subscription_name, r.directory.domain);
        }
        SubscriptionCommand::ChangeDirectory { g, subscription, tenant_id, yes } => {
            let c = Client::from_args(&g)?;
            let base = format!("{}/directory-change", path(&subscription));
            let preview: DirectoryChange = c.get(&format!("{base}?tenantId={}", seg(&tenant_id))).await?;
            if !g.json {
                println!("Confirm directory mapping: {} → {}", preview.from.domain, preview.to.domain);
                if preview.coadministrators_losing_access.is_empty() {
                    println!("No co-administrator loses access.");
                } else {
                    println!("These co-administrators of {} lose access:", preview.from.domain);
                    for u in &preview.coadministrators_losing_access {
                        println!("  {}", u.user_principal_name);
                    }
                }
            }
            ask(yes, "Change the associated directory")?;
            let done: DirectoryChange = c.post(&base, &json!({"tenantId": tenant_id})).await?;
            if g.json {
                return output::json(&done);
            }
            println!("The subscription now trusts {}.", done.to.domain);
        }
        SubscriptionCommand::Coadmin(cmd) => match cmd {
            CoadminCommand::List { g, subscription } => {
                let list: Vec<Coadministrator> = Client::from_args(&g)?.get(&format!("{}/coadministrators", path(&subscription))).await?;
                if g.json {
                    return output::json(&list);
                }
                coadmins(&list);
            }
            CoadminCommand::Add { g, subscription, email } => {
                let a: Coadministrator = Client::from_args(&g)?.post(&format!("{}/coadministrators", path(&subscription)), &json!({"email": email})).await?;
                if g.json {
                    return output::json(&a);
                }
                println!("Added co-administrator {} ({}).", a.user_principal_name, a.user_id);
            }
            CoadminCommand::Remove { g, subscription, user, yes } => {
                let c = Client::from_args(&g)?;
                confirm(yes, &format!("Remove co-administrator {user}: they lose access to the subscription"))?;
                c.delete(&format!("{}/coadministrators/{}", path(&subscription), seg(&user))).await?;
                println!("Removed co-administrator {user}.");
            }
        },
        SubscriptionCommand::Disable { g, subscription } => set_state(&g, &subscription, "disable").await?,
        SubscriptionCommand::Enable { g, subscription } => set_state(&g, &subscription, "enable").await?,
        SubscriptionCommand::Audit { g, subscription } => {
            let events: Vec<AuditEvent> = Client::from_args(&g)?.get(&format!("{}/audit", path(&subscription))).await?;
            if g.json {
                return output::json(&events);
            }
            output::table(
                &["at", "action", "actor", "details"],
                events
                    .iter()
                    .map(|e| {
                        let details: Vec<String> = e.details.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        vec![e.at.clone(), e.action.clone(), e.actor_user_id.map(|u| u.to_string()).unwrap_or_default(), details.join(" ")]
                    })
                    .collect(),
            );
        }
        SubscriptionCommand::Deployment { g, account } => {
            let list: Vec<Subscription> = Client::from_args(&g)?.get(&format!("/api/v1/accounts/{}/deployment/subscriptions", seg(&account))).await?;
            if g.json {
                return output::json(&list);
            }
            table(&list);
        }
    }
    Ok(())
}

async fn set_state(g: &GlobalArgs, subscription: &str, action: &str) -> anyhow::Result<()> {
    let s: Subscription = Client::from_args(g)?.post(&format!("{}/{action}", path(subscription)), &json!({})).await?;
    if g.json {
        return output::json(&s);
    }
    println!("Subscription {} is {}.", s.name, s.state);
    Ok(())
}

/// Asks before a step that needs the reader's review above, unless `--yes` was given.
fn ask(yes: bool, what: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        bail!("review the above, then run again with --yes to confirm");
    }
    eprint!("{what}? Type 'yes' to confirm: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() == "yes" { Ok(()) } else { bail!("cancelled") }
}
