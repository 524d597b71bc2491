use super::{list_query, resolve, tenant_id};
use crate::client::{Client, GlobalArgs, confirm, read_secret, seg};
use crate::output;
use atrium_api_types::{CreateUserResponse, Group, Page, User};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

#[derive(Subcommand)]
pub enum UserCommand {
    /// List or search users of a tenant.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        /// Tenant GUID or domain.
        #[arg(long)]
        tenant: String,
        /// Prefix of the userPrincipalName or display name.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Create a user. Without --password-stdin a temporary password is generated and shown once.
    Create(CreateArgs),
    /// Show a user (GUID, userPrincipalName, alias or display name) and their groups.
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        user: String,
    },
    /// Change a user's names, mail, state or role.
    Update(UpdateArgs),
    /// Delete a user from the directory.
    Delete {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        user: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    #[command(flatten)]
    g: GlobalArgs,
    #[arg(long)]
    tenant: String,
    /// userPrincipalName, or only the alias (the tenant's domain is added).
    #[arg(long)]
    upn: String,
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    surname: Option<String>,
    #[arg(long)]
    mail: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
    /// Make the user a global administrator of the tenant (needs --recovery-email).
    #[arg(long)]
    global_admin: bool,
    #[arg(long)]
    recovery_email: Option<String>,
}

#[derive(Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    g: GlobalArgs,
    #[arg(long)]
    tenant: String,
    user: String,
    #[arg(long)]
    upn: Option<String>,
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    surname: Option<String>,
    /// An empty value clears it.
    #[arg(long)]
    mail: Option<String>,
    #[arg(long)]
    enabled: Option<bool>,
    #[arg(long)]
    global_admin: Option<bool>,
    #[arg(long)]
    recovery_email: Option<String>,
}

const HEADERS: &[&str] = &["user principal name", "display name", "id", "type", "enabled", "global admin"];

fn row(u: &User) -> Vec<String> {
    vec![
        u.user_principal_name.clone(),
        u.display_name.clone(),
        u.id.to_string(),
        u.user_type.clone(),
        u.enabled.to_string(),
        u.global_admin.to_string(),
    ]
}

fn show(u: &User) {
    output::fields(&[
        ("id", u.id.to_string()),
        ("user principal name", u.user_principal_name.clone()),
        ("display name", u.display_name.clone()),
        ("given name", output::opt(&u.given_name)),
        ("surname", output::opt(&u.surname)),
        ("mail", output::opt(&u.mail)),
        ("type", u.user_type.clone()),
        ("enabled", u.enabled.to_string()),
        ("global admin", u.global_admin.to_string()),
        ("must change password", u.must_change_password.to_string()),
        ("last sign-in", output::opt(&u.last_sign_in)),
        ("created", u.created_at.clone()),
    ]);
}

fn text(body: &mut Map<String, Value>, key: &str, v: Option<String>) {
    if let Some(v) = v {
        body.insert(key.into(), if v.is_empty() { Value::Null } else { json!(v) });
    }
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::List { g, tenant, search, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let page: Page<User> = c.get(&format!("/api/v1/tenants/{}/users{}", seg(&tid), list_query(&search, &cursor, limit))).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(HEADERS, page.items.iter().map(row).collect());
            output::next_page(&page.next_cursor);
        }
        UserCommand::Create(a) => {
            let c = Client::from_args(&a.g)?;
            let tid = tenant_id(&c, &a.tenant).await?;
            let mut body = json!({"userPrincipalName": a.upn, "globalAdmin": a.global_admin});
            for (k, v) in [("displayName", &a.display_name), ("givenName", &a.given_name), ("surname", &a.surname), ("mail", &a.mail), ("recoveryEmail", &a.recovery_email)] {
                if let Some(v) = v {
                    body[k] = json!(v);
                }
            }
            if a.password_stdin {
                body["password"] = json!(read_secret("", true)?);
            }
            let res: CreateUserResponse = c.post(&format!("/api/v1/tenants/{}/users", seg(&tid)), &body).await?;
            if a.g.json {
                return output::json(&res);
            }
            println!("Created user {}.", res.user.user_principal_name);
            show(&res.user);
            if let Some(p) = &res.temporary_password {
                println!();
                println!("Temporary password (shown only now; it must be changed at first sign-in): {p}");
            }
        }
        UserCommand::Show { g, tenant, user } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let u = resolve::user(&c, &tid, &user).await?;
            let groups: Vec<Group> = c.get(&format!("/api/v1/tenants/{}/users/{}/groups", seg(&tid), u.id)).await?;
            if g.json {
                return output::json(&json!({"user": u, "groups": groups}));
            }
            show(&u);
            let names: Vec<String> = groups.iter().map(|g| g.display_name.clone()).collect();
            output::fields(&[("groups", names.join(", "))]);
        }
        UserCommand::Update(a) => {
            let c = Client::from_args(&a.g)?;
            let tid = tenant_id(&c, &a.tenant).await?;
            let current = resolve::user(&c, &tid, &a.user).await?;
            let mut body = Map::new();
            if let Some(v) = a.upn {
                body.insert("userPrincipalName".into(), json!(v));
            }
            if let Some(v) = a.display_name {
                body.insert("displayName".into(), json!(v));
            }
            text(&mut body, "givenName", a.given_name);
            text(&mut body, "surname", a.surname);
            text(&mut body, "mail", a.mail);
            text(&mut body, "recoveryEmail", a.recovery_email);
            if let Some(v) = a.enabled {
                body.insert("enabled".into(), json!(v));
            }
            if let Some(v) = a.global_admin {
                body.insert("globalAdmin".into(), json!(v));
            }
            let u: User = c.patch(&format!("/api/v1/tenants/{}/users/{}", seg(&tid), current.id), &Value::Object(body)).await?;
            if a.g.json {
                return output::json(&u);
            }
            show(&u);
        }
        UserCommand::Delete { g, tenant, user, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let u = resolve::user(&c, &tid, &user).await?;
            confirm(yes, &format!("Delete user {} from the directory", u.user_principal_name))?;
            c.delete(&format!("/api/v1/tenants/{}/users/{}", seg(&tid), u.id)).await?;
            println!("Deleted user {}.", u.user_principal_name);
        }
    }
    Ok(())
}
