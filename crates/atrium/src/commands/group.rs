use super::{list_query, resolve, tenant_id};
use crate::client::{Client, GlobalArgs, confirm, seg};
use crate::output;
use atrium_api_types::{Group, Page, User};
use clap::Subcommand;
use serde_json::{Map, Value, json};

#[derive(Subcommand)]
pub enum GroupCommand {
    /// List or search groups of a tenant.
    List {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        /// Prefix of the group name.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Create a group, optionally with members (user GUIDs or userPrincipalNames).
    Create {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// Show a group (GUID or name).
    Show {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
    },
    /// Rename a group or change its description.
    Update {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
        #[arg(long)]
        name: Option<String>,
        /// An empty value clears it.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a group (its members stay in the directory).
    Delete {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
        #[arg(long)]
        yes: bool,
    },
    /// List a group's members.
    Members {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Add a user (GUID or userPrincipalName) to a group.
    AddMember {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        #[command(flatten)]
        g: GlobalArgs,
        #[arg(long)]
        tenant: String,
        group: String,
        user: String,
    },
}

const HEADERS: &[&str] = &["name", "id", "description"];

fn row(g: &Group) -> Vec<String> {
    vec![g.display_name.clone(), g.id.to_string(), output::opt(&g.description)]
}

/// A group GUID, or the id of the group with exactly this name.
async fn group_id(c: &Client, tid: &str, reference: &str) -> anyhow::Result<String> {
    Ok(resolve::group(c, tid, reference).await?.id.to_string())
}

async fn user_id(c: &Client, tid: &str, reference: &str) -> anyhow::Result<String> {
    Ok(resolve::user(c, tid, reference).await?.id.to_string())
}

pub async fn run(cmd: GroupCommand) -> anyhow::Result<()> {
    match cmd {
        GroupCommand::List { g, tenant, search, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let page: Page<Group> = c.get(&format!("/api/v1/tenants/{}/groups{}", seg(&tid), list_query(&search, &cursor, limit))).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(HEADERS, page.items.iter().map(row).collect());
            output::next_page(&page.next_cursor);
        }
        GroupCommand::Create { g, tenant, name, description, members } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let mut ids = Vec::new();
            for m in &members {
                ids.push(user_id(&c, &tid, m).await?);
            }
            let body = json!({"displayName": name, "description": description, "members": ids});
            let group: Group = c.post(&format!("/api/v1/tenants/{}/groups", seg(&tid)), &body).await?;
            if g.json {
                return output::json(&group);
            }
            println!("Created group {} ({}) with {} member(s).", group.display_name, group.id, ids.len());
        }
        GroupCommand::Show { g, tenant, group } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            let grp: Group = c.get(&format!("/api/v1/tenants/{}/groups/{}", seg(&tid), seg(&gid))).await?;
            if g.json {
                return output::json(&grp);
            }
            output::fields(&[
                ("id", grp.id.to_string()),
                ("name", grp.display_name.clone()),
                ("description", output::opt(&grp.description)),
                ("created", grp.created_at.clone()),
            ]);
        }
        GroupCommand::Update { g, tenant, group, name, description } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            let mut body = Map::new();
            if let Some(v) = name {
                body.insert("displayName".into(), json!(v));
            }
            if let Some(v) = description {
                body.insert("description".into(), if v.is_empty() { Value::Null } else { json!(v) });
            }
            let grp: Group = c.patch(&format!("/api/v1/tenants/{}/groups/{}", seg(&tid), seg(&gid)), &Value::Object(body)).await?;
            if g.json {
                return output::json(&grp);
            }
            println!("Updated group {}.", grp.display_name);
        }
        GroupCommand::Delete { g, tenant, group, yes } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            confirm(yes, &format!("Delete group {group}"))?;
            c.delete(&format!("/api/v1/tenants/{}/groups/{}", seg(&tid), seg(&gid))).await?;
            println!("Deleted group {group}.");
        }
        GroupCommand::Members { g, tenant, group, cursor, limit } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            let page: Page<User> =
                c.get(&format!("/api/v1/tenants/{}/groups/{}/members{}", seg(&tid), seg(&gid), list_query(&None, &cursor, limit))).await?;
            if g.json {
                return output::json(&page);
            }
            output::table(
                &["user principal name", "display name", "id"],
                page.items.iter().map(|u| vec![u.user_principal_name.clone(), u.display_name.clone(), u.id.to_string()]).collect(),
            );
            output::next_page(&page.next_cursor);
        }
        GroupCommand::AddMember { g, tenant, group, user } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            let uid = user_id(&c, &tid, &user).await?;
            c.post_no_content(&format!("/api/v1/tenants/{}/groups/{}/members", seg(&tid), seg(&gid)), &json!({"userId": uid})).await?;
            println!("Added {user} to {group}.");
        }
        GroupCommand::RemoveMember { g, tenant, group, user } => {
            let c = Client::from_args(&g)?;
            let tid = tenant_id(&c, &tenant).await?;
            let gid = group_id(&c, &tid, &group).await?;
            let uid = user_id(&c, &tid, &user).await?;
            c.delete(&format!("/api/v1/tenants/{}/groups/{}/members/{}", seg(&tid), seg(&gid), seg(&uid))).await?;
            println!("Removed {user} from {group}.");
        }
    }
    Ok(())
}
