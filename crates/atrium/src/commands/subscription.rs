//! `atrium subscription ...`: subscriptions (seed 003) from the command line (thin REST calls).

use super::resolve;
use crate::client::{Client, GlobalArgs, confirm, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{Coadministrator, DirectoryChange, DirectoryConsentResponse, DirectoryRequestCreated, Subscription};
use clap::Subcommand;
use serde_json::{Value, json};

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
        /// The directory's domain (or GUID), as asked for in step 1.
        #[arg(long, visible_alias = "tenant")]
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
        /// The co-administrator's userPrincipalName (or user id).
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

/// The subscription's API path; the subscription by name or GUID.
async fn path(c: &Client, subscription: &str) -> anyhow::Result<String> {
    Ok(format!("/api/v1/subscriptions/{}", seg(&resolve::subscription(c, subscription).await?)))
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
            let c = Client::from_args(&g)?;
            let s: Subscription = c.get(&path(&c, &subscription).await?).await?;
            if g.json {
                return output::json(&s);
            }
            show(&s);
        }
        SubscriptionCommand::RequestDirectory { g, subscription, tenant } => {
            let c = Client::from_args(&g)?;
            let r: DirectoryRequestCreated = c.post(&format!("{}/directory-requests", path(&c, &subscription).await?), &json!({"tenant": tenant})).await?;
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
            let base = format!("{}/directory-change", path(&c, &subscription).await?);
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
                let c = Client::from_args(&g)?;
                let list: Vec<Coadministrator> = c.get(&format!("{}/coadministrators", path(&c, &subscription).await?)).await?;
                if g.json {
                    return output::json(&list);
                }
                coadmins(&list);
            }
            CoadminCommand::Add { g, subscription, email } => {
                let c = Client::from_args(&g)?;
                let a: Coadministrator = c.post(&format!("{}/coadministrators", path(&c, &subscription).await?), &json!({"email": email})).await?;
                if g.json {
                    return output::json(&a);
                }
                println!("Added co-administrator {} ({}).", a.user_principal_name, a.user_id);
            }
            CoadminCommand::Remove { g, subscription, user, yes } => {
                let c = Client::from_args(&g)?;
                let base = format!("{}/coadministrators", path(&c, &subscription).await?);
                let list: Vec<Coadministrator> = c.get(&base).await?;
                let Some(a) = list.iter().find(|a| a.user_id.to_string().eq_ignore_ascii_case(user.trim()) || a.user_principal_name.eq_ignore_ascii_case(user.trim())) else {
                    let names: Vec<&str> = list.iter().map(|a| a.user_principal_name.as_str()).collect();
                    bail!("{user} is not a co-administrator of this subscription (they are: {})", if names.is_empty() { "none".into() } else { names.join(", ") });
                };
                confirm(yes, &format!("Remove co-administrator {}: they lose access to the subscription", a.user_principal_name))?;
                c.delete(&format!("{base}/{}", a.user_id)).await?;
                println!("Removed co-administrator {}.", a.user_principal_name);
            }
        },
        SubscriptionCommand::Disable { g, subscription } => set_state(&g, &subscription, "disable").await?,
        SubscriptionCommand::Enable { g, subscription } => set_state(&g, &subscription, "enable").await?,
        SubscriptionCommand::Audit { g, subscription } => {
            let c = Client::from_args(&g)?;
            let events: Vec<Value> = c.get(&format!("{}/audit", path(&c, &subscription).await?)).await?;
            if g.json {
                return output::json(&events);
            }
            output::audit(&events, &|_| None, &|_, v| v.to_owned());
        }
        SubscriptionCommand::Deployment { g, account } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let list: Vec<Subscription> = c.get(&format!("/api/v1/accounts/{}/deployment/subscriptions", seg(&acc))).await?;
            if g.json {
                return output::json(&list);
            }
            table(&list);
        }
    }
    Ok(())
}

async fn set_state(g: &GlobalArgs, subscription: &str, action: &str) -> anyhow::Result<()> {
    let c = Client::from_args(g)?;
    let s: Subscription = c.post(&format!("{}/{action}", path(&c, subscription).await?), &json!({})).await?;
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
