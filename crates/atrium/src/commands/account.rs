//! `atrium account ...`: Partner accounts from the command line (thin REST calls).

use super::grant::resolved as grant;
use super::resolve;
use crate::client::{Client, GlobalArgs, confirm, read_secret, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{
    Account, AccountTenant, AddMembersResponse, CreateMemberApplicationResponse, CreateMemberUserResponse, Member, Product, StartAssociationResponse,
    TemporaryPassword,
};
use clap::Subcommand;
use serde_json::{Value, json};
use std::collections::HashMap;

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
        /// A product's name or id.
        #[arg(long)]
        product: Option<String>,
        /// user, group or application (with --principal).
        #[arg(long, requires = "principal")]
        principal_type: Option<String>,
        /// A userPrincipalName or alias, group name, application name or App ID (or id).
        #[arg(long)]
        principal: Option<String>,
        /// The principal's tenant (domain), if not the one you signed in through.
        #[arg(long, visible_alias = "tenant-id", requires = "principal")]
        tenant: Option<String>,
    },
    /// The account's audit log, newest first (who changed what).
    Audit {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// Only what this member did (userPrincipalName, alias or name).
        #[arg(long)]
        actor: Option<String>,
        /// Only what was done to this member (userPrincipalName, group or application name).
        #[arg(long)]
        target: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
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
        /// That user's second factor, when they sign in with one: the authenticator app's
        /// current code, or a recovery code.
        #[arg(long)]
        otp: Option<String>,
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
        /// Objects arrive by directory synchronization (SCIM); interactive creates are refused.
        #[arg(long)]
        directory_sync: bool,
    },
    /// Remove a tenant: its users lose access and every permission.
    Remove {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// The tenant's domain (or GUID).
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
        /// Users by userPrincipalName or alias, groups by name, applications by name or App ID
        /// (or any by id). Repeat for several.
        #[arg(long = "id", required = true)]
        ids: Vec<String>,
        /// The tenant of the principals, by domain (default: the one you signed in through).
        #[arg(long, visible_alias = "tenant-id")]
        tenant: Option<String>,
        /// Roles, e.g. --role developer --role marketer.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Custom permissions as permission=level[:product,product] (products by name or id).
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Replace a member's roles and permissions.
    Update {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// user, group or application, when a name could be either.
        #[arg(long = "type")]
        kind: Option<String>,
        /// userPrincipalName, alias, group or application name, App ID, or id.
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
        #[arg(long = "type")]
        kind: Option<String>,
        id: String,
        #[arg(long)]
        yes: bool,
    },
    /// Create a user in the tenant you signed in through and add it (global admin). A temporary
    /// password is shown once.
    CreateUser {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// userPrincipalName, or only the alias (your tenant's domain is added).
        #[arg(long)]
        upn: String,
        #[arg(long)]
        given_name: Option<String>,
        #[arg(long)]
        surname: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Make the user a global administrator of the tenant (needs --recovery-email).
        #[arg(long)]
        global_admin: bool,
        #[arg(long)]
        recovery_email: Option<String>,
        /// A group to put the user in, by name; repeat for several.
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Create a group in the tenant you signed in through, with members, and add it (global admin).
    CreateGroup {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// A user (userPrincipalName or alias); repeat for several.
        #[arg(long = "member")]
        members: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Register an application in the tenant you signed in through and add it (global admin).
    CreateApp {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long = "reply-url")]
        reply_urls: Vec<String>,
        #[arg(long)]
        app_id_uri: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "permission")]
        permissions: Vec<String>,
    },
    /// Reset a user's password (global admin). The temporary password is shown once; the user
    /// must change it at the next sign-in.
    ResetPassword {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        /// userPrincipalName, alias, name or id.
        user: String,
    },
    /// "Delete from organization": remove the user from the account and delete it from the directory.
    Delete {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        user: String,
        #[arg(long)]
        yes: bool,
    },
    /// A member's history of the last 30 days (the owner only).
    History {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        account: String,
        #[arg(long = "type")]
        kind: Option<String>,
        id: String,
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

/// A grant in words, products by name where `products` knows them.
fn grant_words(g: &atrium_api_types::GrantBody, products: &HashMap<String, String>) -> String {
    let mut parts: Vec<String> = g.roles.clone();
    for p in &g.permissions {
        let scope = p.products.as_ref().map(|ps| {
            let names: Vec<&str> = ps.iter().map(|id| products.get(id).map(String::as_str).unwrap_or(id)).collect();
            format!(" on {}", names.join(", "))
        });
        parts.push(format!("{} ({}){}", p.permission, p.level, scope.unwrap_or_default()));
    }
    parts.join(", ")
}

/// Product names by id, fetched only when a grant names products.
async fn product_names(c: &Client, acc: &str, grants: &[&atrium_api_types::GrantBody]) -> HashMap<String, String> {
    if !grants.iter().any(|g| g.permissions.iter().any(|p| p.products.is_some())) {
        return HashMap::new();
    }
    let list: Vec<Product> = c.get(&format!("/api/v1/accounts/{}/products", seg(acc))).await.unwrap_or_default();
    list.into_iter().map(|p| (p.id.to_string(), p.name)).collect()
}

/// Names for the ids an account's audit log holds: the account, its owner, tenants, members and products.
async fn audit_names(c: &Client, acc: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let accounts: Vec<Account> = c.get("/api/v1/accounts").await.unwrap_or_default();
    for a in accounts.iter().filter(|a| a.id.to_string() == acc) {
        names.insert(a.id.to_string(), a.name.clone());
        names.insert(a.owner_user_id.to_string(), "the owner".into());
    }
    let tenants: Vec<AccountTenant> = c.get(&format!("/api/v1/accounts/{}/tenants", seg(acc))).await.unwrap_or_default();
    names.extend(tenants.into_iter().map(|t| (t.tenant.id.to_string(), t.tenant.domain)));
    let members: Vec<Member> = c.get(&format!("/api/v1/accounts/{}/members", seg(acc))).await.unwrap_or_default();
    for m in members {
        let name = m.display_name.clone().unwrap_or_default();
        let label = match &m.identifier {
            Some(i) if m.kind == "user" => format!("{name} ({i})"),
            _ => name,
        };
        names.insert(m.id.to_string(), label);
    }
    let products: Vec<Product> = c.get(&format!("/api/v1/accounts/{}/products", seg(acc))).await.unwrap_or_default();
    names.extend(products.into_iter().map(|p| (p.id.to_string(), p.name)));
    names
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
            println!("Opened account {} ({}). Associate a tenant next: atrium account tenant associate|create --account '{}'", a.name, a.id, a.name);
        }
        AccountCommand::Tenant(t) => tenants(t).await?,
        AccountCommand::Invitation(i) => super::invitation::run(i).await?,
        AccountCommand::Member(m) => members(m).await?,
        AccountCommand::Product(p) => products(p).await?,
        AccountCommand::Check { g, account, permission, product, principal_type, principal, tenant } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let product = match product {
                Some(p) => Some(resolve::product(&c, &acc, &p).await?),
                None => None,
            };
            let mut body = json!({"permission": permission, "product": product});
            if let Some(p) = principal {
                let kind = principal_type.unwrap_or_else(|| "user".into());
                let tenant = principal_tenant(&c, &acc, tenant.as_deref()).await?;
                let id = resolve::principal_id(&c, &tenant.id.to_string(), &kind, &p).await?;
                body["principal"] = json!({"type": kind, "id": id, "tenantId": tenant.id});
            }
            let d: Value = c.post(&format!("/api/v1/accounts/{}/access/check", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&d);
            }
            for line in decision_text(&c, &acc, &d).await? {
                println!("{line}");
            }
        }
        AccountCommand::Audit { g, account, actor, target, limit } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let mut q = vec![format!("limit={limit}")];
            if let Some(a) = actor {
                let id = if resolve::is_guid(&a) { a } else { resolve::member(&c, &acc, Some("user"), &a).await?.id.to_string() };
                q.push(format!("actor={}", seg(&id)));
            }
            if let Some(t) = target {
                let id = if resolve::is_guid(&t) { t } else { resolve::member(&c, &acc, None, &t).await?.id.to_string() };
                q.push(format!("target={}", seg(&id)));
            }
            let events: Vec<Value> = c.get(&format!("/api/v1/accounts/{}/audit?{}", seg(&acc), q.join("&"))).await?;
            if g.json {
                return output::json(&events);
            }
            let names = audit_names(&c, &acc).await;
            // A grant detail is JSON: say it in words, with product names.
            let detail = |key: &str, value: &str| match serde_json::from_str::<atrium_api_types::GrantBody>(value) {
                Ok(grant) if key == "grant" => grant_words(&grant, &names),
                _ => value.to_owned(),
            };
            output::audit(&events, &|id| names.get(id).cloned(), &detail);
        }
    }
    Ok(())
}

/// The tenant of a principal: the one named (it must be associated), else the caller's.
async fn principal_tenant(c: &Client, acc: &str, tenant: Option<&str>) -> anyhow::Result<atrium_api_types::Tenant> {
    match tenant {
        Some(t) => resolve::account_tenant(c, acc, t).await,
        None => resolve::my_tenant(c).await,
    }
}

fn level_text(level: &str) -> String {
    match level {
        "read_only" => "Read only".into(),
        "read_write" => "Read/write".into(),
        other => other.into(),
    }
}

/// An access decision as sentences: allowed or not, at which level, and the grants that decided it.
async fn decision_text(c: &Client, acc: &str, d: &Value) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![match (d["allowed"].as_bool().unwrap_or(false), d["level"].as_str()) {
        (true, Some(l)) => format!("Allowed: {}.", level_text(l)),
        (true, None) => "Allowed.".into(),
        (false, Some(l)) => format!("Not allowed (holds {} only).", level_text(l)),
        (false, None) => "Not allowed: no access.".into(),
    }];
    let because = d["because"].as_array().cloned().unwrap_or_default();
    if because.is_empty() {
        return Ok(lines);
    }
    // Names for the groups and products the reasons point at (looked up only if they do).
    let members: Vec<Member> = if because.iter().any(|r| r["source"]["kind"] == "group") {
        c.get(&format!("/api/v1/accounts/{}/members", seg(acc))).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let products: Vec<Product> = if because.iter().any(|r| r["via"]["products"].is_array()) {
        c.get(&format!("/api/v1/accounts/{}/products", seg(acc))).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let group_name = |id: &str| members.iter().find(|m| m.id.to_string() == id).and_then(|m| m.display_name.clone()).unwrap_or_else(|| id.to_owned());
    let product_name = |id: &str| products.iter().find(|p| p.id.to_string() == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_owned());
    lines.push("Because:".into());
    for r in because {
        let via = &r["via"];
        let what = match via["kind"].as_str().unwrap_or_default() {
            "owner" => "the account owner holds every permission".to_owned(),
            "role" => format!("role {}", via["role"].as_str().unwrap_or("?")),
            "permission" => {
                let scope = match &via["products"] {
                    Value::Array(ids) => {
                        let names: Vec<String> = ids.iter().filter_map(Value::as_str).map(product_name).collect();
                        format!(" on {}", names.join(", "))
                    }
                    Value::String(s) if s == "all" => " on all products".into(),
                    _ => String::new(),
                };
                format!("permission {} ({}){scope}", via["permission"].as_str().unwrap_or("?"), level_text(via["level"].as_str().unwrap_or("?")))
            }
            other => other.to_owned(),
        };
        let source = match r["source"]["kind"].as_str().unwrap_or_default() {
            "group" => format!(", through the group {}", group_name(r["source"]["groupId"].as_str().unwrap_or_default())),
            "member" => ", granted directly".into(),
            _ => String::new(),
        };
        lines.push(format!("  - {what}{source}"));
    }
    Ok(lines)
}

async fn tenants(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let list: Vec<AccountTenant> = c.get(&format!("/api/v1/accounts/{}/tenants", seg(&acc))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(
                &["domain", "organization", "id", "associated"],
                list.iter().map(|t| vec![t.tenant.domain.clone(), t.tenant.display_name.clone(), t.tenant.id.to_string(), t.associated_at.clone()]).collect(),
            );
        }
        TenantCommand::Associate { g, account, tenant, username, password_stdin, otp, yes } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let password = read_secret(&format!("Password of {username}: "), password_stdin)?;
            let mut body = json!({"tenant": tenant, "username": username, "password": password});
            if let Some(otp) = otp {
                body["otp"] = json!(otp);
            }
            let r: StartAssociationResponse = c.post(&format!("/api/v1/accounts/{}/tenants/associations", seg(&acc)), &body).await?;
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
            let _: Value = c.post(&format!("/api/v1/accounts/{}/tenants/associations/confirm", seg(&acc)), &json!({"token": r.token})).await?;
            println!("Associated {}.", r.domain);
        }
        TenantCommand::Create { g, account, name, prefix, contact_email, admin_username, admin_given_name, admin_surname, admin_password_stdin, directory_sync } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let password = read_secret("Global administrator's password: ", admin_password_stdin)?;
            let body = json!({"displayName": name, "domainPrefix": prefix, "contactEmail": contact_email, "directorySync": directory_sync,
                              "globalAdmin": {"username": admin_username, "givenName": admin_given_name, "surname": admin_surname, "password": password}});
            let r: Value = c.post(&format!("/api/v1/accounts/{}/tenants", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Created and associated {}. Its global administrator is {} (no email is sent: record the password).",
                     r["tenant"]["domain"].as_str().unwrap_or("?"), r["globalAdmin"]["userPrincipalName"].as_str().unwrap_or("?"));
        }
        TenantCommand::Remove { g, account, tenant, yes } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let t = resolve::account_tenant(&c, &acc, &tenant).await?;
            confirm(yes, &format!("Remove tenant {} from the account: its users lose access and every permission", t.domain))?;
            c.delete(&format!("/api/v1/accounts/{}/tenants/{}", seg(&acc), t.id)).await?;
            println!("Removed {}.", t.domain);
        }
    }
    Ok(())
}

fn member_label(m: &Member) -> String {
    let name = m.display_name.clone().unwrap_or_default();
    // A user's userPrincipalName tells people apart; an App ID would only be noise here.
    match &m.identifier {
        Some(i) if m.kind == "user" && *i != name => format!("{} {name} ({i})", m.kind),
        _ => format!("{} {name}", m.kind),
    }
}

fn member_path(acc: &str, m: &Member) -> String {
    format!("/api/v1/accounts/{}/members/{}/{}", seg(acc), seg(&m.kind), m.id)
}

async fn members(cmd: MemberCommand) -> anyhow::Result<()> {
    match cmd {
        MemberCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let list: Vec<Member> = c.get(&format!("/api/v1/accounts/{}/members", seg(&acc))).await?;
            if g.json {
                return output::json(&list);
            }
            let products = product_names(&c, &acc, &list.iter().map(|m| &m.grant).collect::<Vec<_>>()).await;
            output::table(
                &["type", "name", "identifier", "tenant", "access", "last activity"],
                list.iter()
                    .map(|m| {
                        vec![m.kind.clone(), output::opt(&m.display_name), output::opt(&m.identifier), output::opt(&m.tenant_domain), grant_words(&m.grant, &products),
                             output::opt(&m.last_activity)]
                    })
                    .collect(),
            );
        }
        MemberCommand::Add { g, account, kind, ids, tenant, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let t = principal_tenant(&c, &acc, tenant.as_deref()).await?;
            let tid = t.id.to_string();
            let mut principals = Vec::new();
            for typed in &ids {
                let id = resolve::principal_id(&c, &tid, &kind, typed).await?;
                principals.push(json!({"type": kind, "id": id, "tenantId": tenant.as_ref().map(|_| &tid)}));
            }
            let r: AddMembersResponse = c
                .post(&format!("/api/v1/accounts/{}/members", seg(&acc)), &json!({"principals": principals, "grant": grant(&c, &acc, &roles, &permissions).await?}))
                .await?;
            if g.json {
                return output::json(&r);
            }
            let mut failed = 0;
            // Results come in the order of the principals: name them as they were typed.
            for (item, typed) in r.results.iter().zip(&ids) {
                match &item.error {
                    None => println!("added   {} {typed}", item.input.kind),
                    Some(e) => {
                        failed += 1;
                        println!("failed  {} {typed}: {} [{}]", item.input.kind, e.message, e.code);
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} of {} could not be added", r.results.len());
            }
        }
        MemberCommand::Update { g, account, kind, id, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let m = resolve::member(&c, &acc, kind.as_deref(), &id).await?;
            let updated: Member = c.patch(&member_path(&acc, &m), &json!({"grant": grant(&c, &acc, &roles, &permissions).await?})).await?;
            if g.json {
                return output::json(&updated);
            }
            println!("Access of {} is now: {}", member_label(&m), grant_words(&updated.grant, &product_names(&c, &acc, &[&updated.grant]).await));
        }
        MemberCommand::Remove { g, account, kind, id, yes } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let m = resolve::member(&c, &acc, kind.as_deref(), &id).await?;
            confirm(yes, &format!("Remove {} from the account (it stays in the directory)", member_label(&m)))?;
            c.delete(&member_path(&acc, &m)).await?;
            println!("Removed {} from the account.", member_label(&m));
        }
        MemberCommand::CreateUser { g, account, upn, given_name, surname, display_name, global_admin, recovery_email, groups, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let mut group_ids = Vec::new();
            if !groups.is_empty() {
                let tid = resolve::my_tenant(&c).await?.id.to_string();
                for name in &groups {
                    group_ids.push(resolve::group(&c, &tid, name).await?.id.to_string());
                }
            }
            let body = json!({"userPrincipalName": upn, "givenName": given_name, "surname": surname, "displayName": display_name,
                              "globalAdmin": global_admin, "recoveryEmail": recovery_email, "groups": group_ids,
                              "grant": grant(&c, &acc, &roles, &permissions).await?});
            let r: CreateMemberUserResponse = c.post(&format!("/api/v1/accounts/{}/members/users", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Created {} and added it to the account with: {}", r.user.user_principal_name, grant_words(&r.member.grant, &product_names(&c, &acc, &[&r.member.grant]).await));
            println!("Temporary password (shown only now; it must be changed at first sign-in): {}", r.temporary_password);
        }
        MemberCommand::CreateGroup { g, account, name, description, members, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let mut user_ids = Vec::new();
            if !members.is_empty() {
                let tid = resolve::my_tenant(&c).await?.id.to_string();
                for u in &members {
                    user_ids.push(resolve::user(&c, &tid, u).await?.id.to_string());
                }
            }
            let body = json!({"displayName": name, "description": description, "members": user_ids, "grant": grant(&c, &acc, &roles, &permissions).await?});
            let m: Member = c.post(&format!("/api/v1/accounts/{}/members/groups", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&m);
            }
            println!("Created group {name} with {} member(s) and added it to the account with: {}", user_ids.len(), grant_words(&m.grant, &product_names(&c, &acc, &[&m.grant]).await));
        }
        MemberCommand::CreateApp { g, account, name, reply_urls, app_id_uri, roles, permissions } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let body = json!({"displayName": name, "replyUrls": reply_urls, "appIdUri": app_id_uri, "grant": grant(&c, &acc, &roles, &permissions).await?});
            let r: CreateMemberApplicationResponse = c.post(&format!("/api/v1/accounts/{}/members/applications", seg(&acc)), &body).await?;
            if g.json {
                return output::json(&r);
            }
            println!("Registered application {} and added it to the account with: {}", r.application.display_name, grant_words(&r.member.grant, &product_names(&c, &acc, &[&r.member.grant]).await));
            output::fields(&[("App ID (client id)", r.application.app_id.to_string()), ("Reply URLs", r.application.reply_urls.join(", ")),
                             ("App ID URI", output::opt(&r.application.app_id_uri))]);
            println!("Add a key with: atrium app key add --tenant <your tenant> '{}'", r.application.display_name);
        }
        MemberCommand::ResetPassword { g, account, user } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let m = resolve::member(&c, &acc, Some("user"), &user).await?;
            let p: TemporaryPassword = c.post(&format!("{}/reset-password", member_path(&acc, &m)), &json!({})).await?;
            if g.json {
                return output::json(&p);
            }
            println!("Reset the password of {}.", member_label(&m));
            println!("Temporary password (shown only now; it must be changed at the next sign-in): {}", p.temporary_password);
        }
        MemberCommand::Delete { g, account, user, yes } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let m = resolve::member(&c, &acc, Some("user"), &user).await?;
            confirm(yes, &format!("Delete {} from the organization: it leaves the account and the directory", member_label(&m)))?;
            c.post_no_content(&format!("{}/delete-from-organization", member_path(&acc, &m)), &json!({})).await?;
            println!("Deleted {} from the organization.", member_label(&m));
        }
        MemberCommand::History { g, account, kind, id } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let m = resolve::member(&c, &acc, kind.as_deref(), &id).await?;
            let rows: Vec<Value> = c.get(&format!("{}/activity", member_path(&acc, &m))).await?;
            if g.json {
                return output::json(&rows);
            }
            println!("History of {} (last 30 days):", member_label(&m));
            output::history(&rows);
        }
    }
    Ok(())
}

async fn products(cmd: ProductCommand) -> anyhow::Result<()> {
    match cmd {
        ProductCommand::List { g, account } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let list: Vec<Product> = c.get(&format!("/api/v1/accounts/{}/products", seg(&acc))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(&["name", "id", "created"], list.iter().map(|p| vec![p.name.clone(), p.id.to_string(), p.created_at.clone()]).collect());
        }
        ProductCommand::Create { g, account, name } => {
            let c = Client::from_args(&g)?;
            let acc = resolve::account(&c, &account).await?;
            let p: Product = c.post(&format!("/api/v1/accounts/{}/products", seg(&acc)), &json!({"name": name})).await?;
            if g.json {
                return output::json(&p);
            }
            println!("Created product {} ({}).", p.name, p.id);
        }
    }
    Ok(())
}
