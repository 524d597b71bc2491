use super::{list_query, tenant_id};
use crate::client::{Client, GlobalArgs, confirm, read_secret, seg};
use crate::output;
use atrium_api_types::{CreateTenantResponse, Page, Tenant};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

#[derive(Subcommand)]
pub enum TenantCommand {
    /// List or search tenants.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        /// Prefix of the domain or display name.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Create a tenant `<prefix>.<suffix>`.
    Create(CreateArgs),
    /// Show one tenant (GUID or domain).
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        tenant: String,
    },
    /// Change a tenant's display name, contact email or directory-sync flag.
    Update {
        #[command(flatten)]
        g: GlobalArgs,
        tenant: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        contact_email: Option<String>,
        #[arg(long)]
        directory_sync: Option<bool>,
    },
    /// Inbound provisioning (SCIM 2.0): tokens of the tenant's source directory.
    #[command(subcommand)]
    Provisioning(super::provisioning::ProvisioningCommand),
    /// Delete a tenant with all its users and groups.
    Delete {
        #[command(flatten)]
        g: GlobalArgs,
        tenant: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    #[command(flatten)]
    g: GlobalArgs,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Domain prefix: `contoso` gives `contoso.<suffix>`.
    #[arg(long)]
    prefix: String,
    #[arg(long)]
    contact_email: Option<String>,
    /// Objects arrive by directory synchronization (SCIM); interactive creates are refused.
    #[arg(long)]
    directory_sync: bool,
    /// Also create the first global administrator with this username (alias or full UPN).
    #[arg(long, requires_all = ["admin_given_name", "admin_surname"])]
    admin_username: Option<String>,
    #[arg(long)]
    admin_given_name: Option<String>,
    #[arg(long)]
    admin_surname: Option<String>,
    /// Read the administrator's password from standard input instead of a prompt.
    #[arg(long)]
    admin_password_stdin: bool,
}

fn row(t: &Tenant) -> Vec<String> {
    vec![t.domain.clone(), t.display_name.clone(), t.id.to_string(), output::opt(&t.contact_email), t.directory_sync.to_string()]
}

const HEADERS: &[&str] = &["domain", "display name", "id", "contact email", "directory sync"];

fn show(t: &Tenant) {
    output::fields(&[
        ("id", t.id.to_string()),
        ("domain", t.domain.clone()),
        ("display name", t.display_name.clone()),
        ("contact email", output::opt(&t.contact_email)),
        ("directory sync", t.directory_sync.to_string()),
        ("created", t.created_at.clone()),
    ]);
}

pub async fn run(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List { g, search, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let page: Page<Tenant> = c.get(&format!("/api/v1/tenants{}", list_query(&search, &cursor, limit))).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(HEADERS, page.items.iter().map(row).collect());
            output::next_page(&page.next_cursor);
        }
        TenantCommand::Create(a) => {
            let c = Client::from_args(&a.g)?;
            let mut body = json!({"displayName": a.name, "domainPrefix": a.prefix, "directorySync": a.directory_sync});
            if let Some(e) = &a.contact_email {
                body["contactEmail"] = json!(e);
            }
            if let Some(u) = &a.admin_username {
                let password = read_secret("Global administrator's password: ", a.admin_password_stdin)?;
                body["globalAdmin"] = json!({
                    "username": u, "givenName": a.admin_given_name, "surname": a.admin_surname, "password": password,
                });
            }
            let res: CreateTenantResponse = c.post("/api/v1/tenants", &body).await?;
            if a.g.json {
                return output::json(&res);
            }
            println!("Created tenant {}.", res.tenant.domain);
            show(&res.tenant);
            if let Some(admin) = res.global_admin {
                println!("Global administrator: {} (no email is sent; record the password now)", admin.user_principal_name);
            }
        }
        TenantCommand::Show { g, tenant } => {
            let c = Client::from_args(&g)?;
            let id = tenant_id(&c, &tenant).await?;
            let t: Tenant = c.get(&format!("/api/v1/tenants/{}", seg(&id))).await?;
            if g.json {
                return output::json(&t);
            }
            show(&t);
        }
        TenantCommand::Update { g, tenant, name, contact_email, directory_sync } => {
            let c = Client::from_args(&g)?;
            let id = tenant_id(&c, &tenant).await?;
            let mut body = Map::new();
            if let Some(v) = name {
                body.insert("displayName".into(), json!(v));
            }
            if let Some(v) = contact_email {
                body.insert("contactEmail".into(), if v.is_empty() { Value::Null } else { json!(v) });
            }
            if let Some(v) = directory_sync {
                body.insert("directorySync".into(), json!(v));
            }
            let t: Tenant = c.patch(&format!("/api/v1/tenants/{}", seg(&id)), &Value::Object(body)).await?;
            if g.json {
                return output::json(&t);
            }
            show(&t);
        }
        TenantCommand::Provisioning(cmd) => super::provisioning::run(cmd).await?,
        TenantCommand::Delete { g, tenant, yes } => {
            let c = Client::from_args(&g)?;
            let id = tenant_id(&c, &tenant).await?;
            confirm(yes, &format!("Delete tenant {tenant} with all its users and groups"))?;
            c.delete(&format!("/api/v1/tenants/{}", seg(&id))).await?;
            println!("Deleted tenant {tenant}.");
        }
    }
    Ok(())
}
