//! `atrium account ...`: Partner accounts from the command line (thin REST calls).

use super::grant::grant;
use crate::client::{Client, GlobalArgs, confirm, read_secret, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{Account, AccountTenant, AddMembersResponse, Member, Product, StartAssociationResponse};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// The accounts you own or are a member of.
    List {
        #[command(flatten)]
        g: GlobalArgs,
    },
    /// Open an account (you become its owner; sign in with a personal account).
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        name: String,
        /// company or individual.
        #[arg(long)]
        account_type: Option<String>,
        /// developer or hardware.
        #[arg(long)]
        program: Option<String>,
    },
    /// Tenants of an account (Account settings → Tenants).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Members: users, groups and applications with roles or custom permissions.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Products of an account.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Invite outside users (guests) by email; resend or revoke invitations.
    #[command(subcommand)]
    Invitation(super::invitation::InvitationCommand),
    /// Check a permission: for you, or for a principal.
    Check {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// A permission id (see `GET /api/v1/catalog`).
        #[arg(long)]
        permission: String,
        #[arg(long)]
        product: Option<String>,
        /// user, group or application (with --principal).
        #[arg(long, requires = "principal")]
        principal_type: Option<String>,
        #[arg(long)]
        principal: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
    },
    /// Associate an existing tenant: sign in to it, review, then confirm (with --yes, or at the prompt).
    Associate {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// The tenant's GUID or domain.
        #[arg(long)]
        tenant: String,
        /// A user of that tenant.
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        yes: bool,
    },
    /// Create a brand-new tenant with its global administrator and associate it.
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        prefix: String,
        #[arg(long)]
        contact_email: Option<String>,
        #[arg(long)]
        admin_username: String,
        #[arg(long)]
        admin_given_name: String,
        #[arg(long)]
        admin_surname: String,
        #[arg(long)]
        admin_password_stdin: bool,
    },
    /// Remove a tenant: its users lose access and every permission.
    Remove {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        tenant: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
    },
    /// Add existing principals, all with the same roles/permissions.
    Add {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// user, group or application.
        #[arg(long = "type", default_value = "user")]
        kind: String,
        /// Ids (users also by userPrincipalName, applications by appId). Repeat for several.
        #[arg(long = "id", required = true)]
        ids: Vec<String>,
        /// The tenant of the principals (default: the one you signed in through).
        #[arg(long)]
        tenant_id: Option<String>,
        /// Roles, e.g. --role developer --role marketer.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Custom permissions as permission=level[:product,product].
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Replace a member's roles and permissions.
    Update {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long = "type", default_value = "user")]
        kind: String,
        id: String,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Remove from the account (the directory object stays).
    Remove {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long = "type", default_value = "user")]
        kind: String,
        id: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum ProductCommand {
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
    },
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
    },
}

fn grant_text(m: &Member) -> String {
    let mut parts: Vec<String> = m.grant.roles.clone();
    for p in &m.grant.permissions {
        let scope = p.products.as_ref().map(|ps| format!(" on {}", ps.join(","))).unwrap_or_default();
        parts.push(format!("{} ({}){scope}", p.permission, p.level));
    }
    parts.join(", ")
}

pub async fn run(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::List { g } => {
            let c = Client::from_args(&g)?;
            let list: Vec<Account> = c.get("/api/v1/accounts").await?;
            if g.json {
                return output::json(&list);
            }
            output::table(
                &["name", "id", "type", "program", "owner"],
                list.iter().map(|a| vec![a.name.clone(), a.id.to_string(), a.account_type.clone(), a.program.clone(), a.is_owner.to_string()]).collect(),
            );
        }
        AccountCommand::Create { g, name, account_type, program } => {
            let c = Client::from_args(&g)?;
            let a: Account = c.post("/api/v1/accounts", &json!({"name": name, "accountType": account_type, "program": program})).await?;
            if g.json {
                return output::json(&a);
            }
            println!("Opened account {} ({}). Associate a tenant next: atrium account tenant associate|create --account {}", a.name, a.id, a.id);
        }
        AccountCommand::Tenant(t) => tenants(t).await?,
        AccountCommand::Invitation(i) => super::invitation::run(i).await?,
        AccountCommand::Member(m) => members(m).await?,
        AccountCommand::Product(p) => products(p).await?,
        AccountCommand::Check { g, account, permission, product, principal_type, principal } => {
            let c = Client::from_args(&g)?;
            let mut body = json!({"permission": permission, "product": product});
            if let Some(p) = principal {
                body["principal"] = json!({"type": principal_type.unwrap_or_else(|| "user".into()), "id": p});
            }
            let d: Value = c.post(&format!("/api/v1/accounts/{}/access/check", seg(&account)), &body).await?;
            if g.json {
                return output::json(&d);
            }
            println!("allowed: {}   level: {}", d["allowed"], d["level"].as_str().unwrap_or("no access"));
            for r in d["because"].as_array().into_iter().flatten() {
                println!("  because: {} via {}", r["source"], r["via"]);
            }
        }
    }
    Ok(())
}

async fn tenants(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let list: Vec<AccountTenant> = c.get(&format!("/api/v1/accounts/{}/tenants", seg(&account))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(
                &["domain", "organization", "id", "associated"],
                list.iter().map(|t| vec![t.tenant.domain.clone(), t.tenant.display_name.clone(), t.tenant.id.to_string(), t.associated_at.clone()]).collect(),
            );
        }
        TenantCommand::Associate { g, account, tenant, username, password_stdin, yes } => {
            let c = Client::from_args(&g)?;
            let password = read_secret(&format!("Password of {username}: "), password_stdin)?;
            let r: StartAssociationResponse = c
                .post(&format!("/api/v1/accounts/{}/tenants/associations", seg(&account)), &json!({"tenant": tenant, "username": username, "password": password}))
                .await?;
            println!("Organization: {}\nDomain:       {}", r.organization, r.domain);
            if !yes {
                use std::io::{BufRead, IsTerminal, Write};
                if !std::io::stdin().is_terminal() {
                    bail!("review the organization and domain above, then run again with --yes to confirm");
                }
                eprint!("Associate this tenant with the account? Type 'yes' to confirm: ");
                std::io::stderr().flush()?;
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                if line.trim() != "yes" {
                    bail!("cancelled");
                }
            }
            let _: Value = c.post(&format!("/api/v1/accounts/{}/tenants/associations/confirm", seg(&account)), &json!({"token": r.token})).await?;
            println!("Associated {}.", r.domain);
        }
        TenantCommand::Create { g, account, name, prefix, contact_email, admin_username, admin_given_name, admin_surname, admin_password_stdin } => {
            let c = Client::from_args(&g)?;
            let password = read_secret("Global administrator's password: ", admin_password_stdin)?;
            let body = json!({"displayName": name, "domainPrefix": prefix, "contactEmail": contact_email,
                              "globalAdmin": {"username": admin_username, "givenName": admin_given_name, "surname": admin_surname, "password": password}});
            let r: Value = c.post(&format!("/api/v1/accounts/{}/tenants", seg(&account)), &body).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Created and associated {}. Its global administrator is {} (no email is sent: record the password).",
                     r["tenant"]["domain"].as_str().unwrap_or("?"), r["globalAdmin"]["userPrincipalName"].as_str().unwrap_or("?"));
        }
        TenantCommand::Remove { g, account, tenant, yes } => {
            let c = Client::from_args(&g)?;
            confirm(yes, &format!("Remove tenant {tenant} from the account: its users lose access and every permission"))?;
            c.delete(&format!("/api/v1/accounts/{}/tenants/{}", seg(&account), seg(&tenant))).await?;
            println!("Removed {tenant}.");
        }
    }
    Ok(())
}

async fn members(cmd: MemberCommand) -> anyhow::Result<()> {
    match cmd {
        MemberCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let list: Vec<Member> = c.get(&format!("/api/v1/accounts/{}/members", seg(&account))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(
                &["type", "name", "identifier", "tenant", "access", "last activity"],
                list.iter()
                    .map(|m| vec![m.kind.clone(), output::opt(&m.display_name), output::opt(&m.identifier), output::opt(&m.tenant_domain), grant_text(m), output::opt(&m.last_activity)])
                    .collect(),
            );
        }
        MemberCommand::Add { g, account, kind, ids, tenant_id, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let principals: Vec<Value> = ids.iter().map(|id| json!({"type": kind, "id": id, "tenantId": tenant_id})).collect();
            let r: AddMembersResponse = c
                .post(&format!("/api/v1/accounts/{}/members", seg(&account)), &json!({"principals": principals, "grant": grant(&roles, &permissions)?}))
                .await?;
            if g.json {
                return output::json(&r);
            }
            let mut failed = 0;
            for item in &r.results {
                match &item.error {
                    None => println!("added   {} {}", item.input.kind, item.input.id),
                    Some(e) => {
                        failed += 1;
                        println!("failed  {} {}: {} [{}]", item.input.kind, item.input.id, e.message, e.code);
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} of {} could not be added", r.results.len());
            }
        }
        MemberCommand::Update { g, account, kind, id, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let m: Member = c
                .patch(&format!("/api/v1/accounts/{}/members/{}/{}", seg(&account), seg(&kind), seg(&id)), &json!({"grant": grant(&roles, &permissions)?}))
                .await?;
            if g.json {
                return output::json(&m);
            }
            println!("Access is now: {}", grant_text(&m));
        }
        MemberCommand::Remove { g, account, kind, id, yes } => {
            let c = Client::from_args(&g)?;
            confirm(yes, &format!("Remove {kind} {id} from the account (it stays in the directory)"))?;
            c.delete(&format!("/api/v1/accounts/{}/members/{}/{}", seg(&account), seg(&kind), seg(&id))).await?;
            println!("Removed {kind} {id} from the account.");
        }
    }
    Ok(())
}

async fn products(cmd: ProductCommand) -> anyhow::Result<()> {
    match cmd {
        ProductCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let list: Vec<Product> = c.get(&format!("/api/v1/accounts/{}/products", seg(&account))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(&["name", "id", "created"], list.iter().map(|p| vec![p.name.clone(), p.id.to_string(), p.created_at.clone()]).collect());
        }
        ProductCommand::Create { g, account, name } => {
            let c = Client::from_args(&g)?;
            let p: Product = c.post(&format!("/api/v1/accounts/{}/products", seg(&account)), &json!({"name": name})).await?;
            if g.json {
                return output::json(&p);
            }
            println!("Created product {} ({}).", p.name, p.id);
        }
    }
    Ok(())
}
