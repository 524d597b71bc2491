//! `atrium app ...`: application registrations of a tenant and their keys (seed 002: Reply URL,
//! App ID URI, keys). Applications are named by display name, App ID or object id.

use super::{list_query, resolve, tenant_id};
use crate::client::{Client, GlobalArgs, confirm, seg};
use crate::output;
use anyhow::bail;
use atrium_api_types::{Application, CreatedKey, GraphPermissionGrant, Key, Page};
use clap::Subcommand;
use serde_json::{Map, Value, json};

#[derive(Subcommand)]
pub enum ApplicationCommand {
    /// List or search applications of a tenant.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        /// Tenant GUID or domain.
        #[arg(long)]
        tenant: String,
        /// Prefix of the name.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Register an application.
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// A Reply URL (redirect URI); repeat for several.
        #[arg(long = "reply-url")]
        reply_urls: Vec<String>,
        /// e.g. api://contoso-games.
        #[arg(long)]
        app_id_uri: Option<String>,
        /// Allow public-client flows (no key needed).
        #[arg(long)]
        public_client: bool,
    },
    /// Show an application: Tenant ID, Client ID (App ID), Reply URLs, App ID URI.
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        /// Name, App ID or object id.
        app: String,
    },
    /// Rename an application or change its Reply URLs, App ID URI or public-client flag.
    Update {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        #[arg(long)]
        name: Option<String>,
        /// Replaces the Reply URLs; repeat for several.
        #[arg(long = "reply-url", conflicts_with_all = ["add_reply_urls", "remove_reply_urls"])]
        reply_urls: Vec<String>,
        /// Adds a Reply URL to those it has.
        #[arg(long = "add-reply-url")]
        add_reply_urls: Vec<String>,
        /// Removes a Reply URL.
        #[arg(long = "remove-reply-url")]
        remove_reply_urls: Vec<String>,
        /// An empty value clears it.
        #[arg(long)]
        app_id_uri: Option<String>,
        #[arg(long)]
        public_client: Option<bool>,
    },
    /// Delete an application and its keys.
    Delete {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        #[arg(long)]
        yes: bool,
    },
    /// Keys (client secrets) of an application.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Microsoft Graph application permissions of an application (admin consent).
    #[command(subcommand)]
    Permission(PermissionCommand),
}

#[derive(Subcommand)]
pub enum PermissionCommand {
    /// The Microsoft Graph application permissions granted to the application.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
    },
    /// Grant Microsoft Graph application permissions with admin consent (a global administrator
    /// of the tenant), e.g. User.Read.All; app-only Graph tokens then carry them in `roles`.
    Grant {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        /// Permission names (User.ReadWrite.All, Group.ReadWrite.All, AuditLog.Read.All, ...) or app role ids.
        #[arg(required = true)]
        permissions: Vec<String>,
    },
    /// Remove a Microsoft Graph application permission from the application.
    Revoke {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        permission: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// The keys, with created and expiry dates and a hint; never the values.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
    },
    /// Add a key. Its value is shown only now.
    Add {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        /// A description of the key.
        #[arg(long)]
        description: Option<String>,
        /// 1 to 24 months [default: 24].
        #[arg(long)]
        months: Option<u32>,
    },
    /// Remove a key (by its description, hint or id): tokens can no longer be requested with it.
    Remove {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        app: String,
        key: String,
        #[arg(long)]
        yes: bool,
    },
}

fn show(a: &Application) {
    output::fields(&[
        ("name", a.display_name.clone()),
        ("App ID (client id)", a.app_id.to_string()),
        ("object id", a.id.to_string()),
        ("tenant id", a.tenant_id.to_string()),
        ("Reply URLs", a.reply_urls.join(", ")),
        ("App ID URI", output::opt(&a.app_id_uri)),
        ("public client", a.public_client.to_string()),
        ("created", a.created_at.clone()),
    ]);
}

fn app_path(tid: &str, a: &Application) -> String {
    format!("/api/v1/tenants/{}/applications/{}", seg(tid), a.id)
}

pub async fn run(cmd: ApplicationCommand) -> anyhow::Result<()> {
    match cmd {
        ApplicationCommand::List { g, tenant, search, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let page: Page<Application> = c.get(&format!("/api/v1/tenants/{}/applications{}", seg(&tid), list_query(&search, &cursor, limit))).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(
                &["name", "App ID", "Reply URLs", "App ID URI"],
                page.items.iter().map(|a| vec![a.display_name.clone(), a.app_id.to_string(), a.reply_urls.join(", "), output::opt(&a.app_id_uri)]).collect(),
            );
            output::next_page(&page.next_cursor);
        }
        ApplicationCommand::Create { g, tenant, name, reply_urls, app_id_uri, public_client } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let body = json!({"displayName": name, "replyUrls": reply_urls, "appIdUri": app_id_uri, "publicClient": public_client});
            let a: Application = c.post(&format!("/api/v1/tenants/{}/applications", seg(&tid)), &body).await?;
            if g.json {
                return output::json(&a);
            }
            println!("Registered application {}.", a.display_name);
            show(&a);
        }
        ApplicationCommand::Show { g, tenant, app } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            if g.json {
                return output::json(&a);
            }
            show(&a);
        }
        ApplicationCommand::Update { g, tenant, app, name, reply_urls, add_reply_urls, remove_reply_urls, app_id_uri, public_client } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let mut body = Map::new();
            if let Some(v) = name {
                body.insert("displayName".into(), json!(v));
            }
            if !reply_urls.is_empty() {
                body.insert("replyUrls".into(), json!(reply_urls));
            } else if !add_reply_urls.is_empty() || !remove_reply_urls.is_empty() {
                let mut urls = a.reply_urls.clone();
                for r in &remove_reply_urls {
                    let before = urls.len();
                    urls.retain(|u| u != r);
                    if urls.len() == before {
                        bail!("{} has no Reply URL {r}", a.display_name);
                    }
                }
                urls.extend(add_reply_urls.into_iter().filter(|u| !a.reply_urls.contains(u)));
                body.insert("replyUrls".into(), json!(urls));
            }
            if let Some(v) = app_id_uri {
                body.insert("appIdUri".into(), if v.is_empty() { Value::Null } else { json!(v) });
            }
            if let Some(v) = public_client {
                body.insert("publicClient".into(), json!(v));
            }
            let a: Application = c.patch(&app_path(&tid, &a), &Value::Object(body)).await?;
            if g.json {
                return output::json(&a);
            }
            println!("Updated application {}.", a.display_name);
            show(&a);
        }
        ApplicationCommand::Delete { g, tenant, app, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            confirm(yes, &format!("Delete application {} and its keys", a.display_name))?;
            c.delete(&app_path(&tid, &a)).await?;
            println!("Deleted application {}.", a.display_name);
        }
        ApplicationCommand::Key(k) => keys(k).await?,
        ApplicationCommand::Permission(p) => permissions(p).await?,
    }
    Ok(())
}

async fn keys(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::List { g, tenant, app } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let list: Vec<Key> = c.get(&format!("{}/keys", app_path(&tid, &a))).await?;
            if g.json {
                return output::json(&list);
            }
            output::table(
                &["description", "hint", "created", "expires", "id"],
                list.iter()
                    .map(|k| {
                        let expires = if k.expired { format!("{} (expired)", k.expires_at) } else { k.expires_at.clone() };
                        vec![output::opt(&k.display_name), format!("{}…", k.hint), k.created_at.clone(), expires, k.key_id.to_string()]
                    })
                    .collect(),
            );
        }
        KeyCommand::Add { g, tenant, app, description, months } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let k: CreatedKey = c.post(&format!("{}/keys", app_path(&tid, &a)), &json!({"displayName": description, "validityMonths": months})).await?;
            if g.json {
                return output::json(&k);
            }
            println!("Added a key to {}; it expires {}.", a.display_name, k.expires_at);
            output::fields(&[("Client ID", k.client_id.to_string()), ("key", k.secret.clone())]);
            println!("The key is shown only now: copy it.");
        }
        KeyCommand::Remove { g, tenant, app, key, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let list: Vec<Key> = c.get(&format!("{}/keys", app_path(&tid, &a))).await?;
            let wanted = key.trim().trim_end_matches('…');
            let found: Vec<&Key> = list
                .iter()
                .filter(|k| k.key_id.to_string().eq_ignore_ascii_case(wanted) || k.display_name.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(wanted)) || k.hint == wanted)
                .collect();
            let k = match found.as_slice() {
                [k] => *k,
                [] => bail!("{} has no key '{key}' (give its description, hint or id; see `atrium app key list`)", a.display_name),
                _ => bail!("'{key}' matches {} keys of {}; give the key's id (see `atrium app key list`)", found.len(), a.display_name),
            };
            let label = k.display_name.clone().unwrap_or_else(|| format!("{}…", k.hint));
            confirm(yes, &format!("Remove key {label} of {}: tokens can no longer be requested with it", a.display_name))?;
            c.delete(&format!("{}/keys/{}", app_path(&tid, &a), k.key_id)).await?;
            println!("Removed key {label} of {}.", a.display_name);
        }
    }
    Ok(())
}

fn permission_table(list: &[GraphPermissionGrant]) {
    output::table(
        &["permission", "app role id", "granted"],
        list.iter().map(|p| vec![p.permission.clone(), p.app_role_id.to_string(), p.created_at.clone()]).collect(),
    );
}

async fn permissions(cmd: PermissionCommand) -> anyhow::Result<()> {
    match cmd {
        PermissionCommand::List { g, tenant, app } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let list: Vec<GraphPermissionGrant> = c.get(&format!("{}/graph-permissions", app_path(&tid, &a))).await?;
            if g.json {
                return output::json(&list);
            }
            permission_table(&list);
        }
        PermissionCommand::Grant { g, tenant, app, permissions } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            let list: Vec<GraphPermissionGrant> = c.post(&format!("{}/graph-permissions", app_path(&tid, &a)), &json!({"permissions": permissions})).await?;
            if g.json {
                return output::json(&list);
            }
            println!("Granted admin consent to {} for Microsoft Graph: {}.", a.display_name, permissions.join(", "));
            permission_table(&list);
        }
        PermissionCommand::Revoke { g, tenant, app, permission, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let a = resolve::application(&c, &tid, &app).await?;
            confirm(yes, &format!("Remove the Microsoft Graph permission {permission} from {}", a.display_name))?;
            c.delete(&format!("{}/graph-permissions/{}", app_path(&tid, &a), seg(&permission))).await?;
            println!("Removed the Microsoft Graph permission {permission} from {}.", a.display_name);
        }
    }
    Ok(())
}
