//! `/v1.0/groups` (microsoft.graph.group) and their members, through the same group services
//! as REST, the console and SCIM. Atrium's groups are security groups whose members are
//! users; they do not nest, so `transitiveMembers` are the members.

use super::error::{GraphError, GraphResult};
use super::odata::{self, ENTITY, Entity, LIST, NONE};
use super::users::{USER, not_found, user_object};
use super::{Caller, Ctx, collection, entity, no_content, select};
use crate::state::AppState;
use atrium_core::ids::{GroupId, UserId};
use atrium_core::model::Group;
use atrium_core::page::ListQuery;
use atrium_core::query::{Attr, ObjectKind};
use atrium_core::services::{GroupPatch, NewGroup};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1.0/groups", get(list_groups).post(create_group))
        .route("/v1.0/groups/{id}", get(get_group).patch(update_group).delete(delete_group))
        .route("/v1.0/groups/{id}/members", get(list_members))
        .route("/v1.0/groups/{id}/transitiveMembers", get(list_members))
        .route("/v1.0/groups/{id}/members/$ref", post(add_member))
        .route("/v1.0/groups/{id}/members/{member}/$ref", delete(remove_member))
        .route("/v1.0/groups/{id}/owners", get(list_owners))
}

pub const GROUP: Entity = Entity {
    name: "group",
    kind: ObjectKind::Group,
    properties: &[
        "id",
        "createdDateTime",
        "description",
        "displayName",
        "groupTypes",
        "mail",
        "mailEnabled",
        "mailNickname",
        "securityEnabled",
        "visibility",
        "onPremisesSyncEnabled",
    ],
    searchable: &[Attr::DisplayName],
    orderable: &[Attr::DisplayName],
};

/// A group in Graph's shape.
pub fn group_json(g: &Group) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id.as_uuid()));
    m.insert("createdDateTime".into(), json!(g.created_at.to_rfc3339()));
    m.insert("description".into(), json!(g.description.as_ref().map(|d| d.as_str())));
    m.insert("displayName".into(), json!(g.name.as_str()));
    m.insert("groupTypes".into(), json!([]));
    m.insert("mail".into(), Value::Null);
    m.insert("mailEnabled".into(), json!(false));
    m.insert("mailNickname".into(), json!(nickname(g.name.as_str())));
    m.insert("securityEnabled".into(), json!(true));
    m.insert("visibility".into(), Value::Null);
    m.insert("onPremisesSyncEnabled".into(), json!(g.provisioning.is_some().then_some(true)));
    m
}

/// Atrium keeps no separate mail alias for groups: it is derived from the name.
fn nickname(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}

pub fn group_object(g: &Group, sel: Option<&[&'static str]>) -> Value {
    let mut v = select(group_json(g), sel, &[]);
    v["@odata.type"] = json!("#microsoft.graph.group");
    v
}

fn group_id(id: &str) -> GraphResult<GroupId> {
    GroupId::parse(id, "id").map_err(|_| group_not_found(id))
}

fn group_not_found(id: &str) -> GraphError {
    not_found(atrium_core::Error::new(atrium_core::ErrorCode::GroupNotFound), id)
}

async fn list_groups(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &GROUP, LIST)?;
    let query = o.directory_query(ObjectKind::Group)?;
    let page = st.services.query_groups(&actor, actor.tenant_id, &query).await?;
    let count = if o.count { Some(st.services.count_groups(&actor, actor.tenant_id, &query).await?) } else { None };
    let items = page.items.iter().map(|g| select(group_json(g), o.select.as_deref(), &[])).collect();
    let next = page.next_cursor.map(|c| o.next_link(&ctx.base, "/v1.0/groups", &c));
    Ok(collection(&ctx, &format!("groups{}", o.context_suffix()), items, count, next))
}

async fn get_group(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &GROUP, ENTITY)?;
    let g = st.services.get_group(&actor, actor.tenant_id, group_id(&id)?).await.map_err(|e| not_found(e, &id))?;
    Ok(entity(&ctx, &format!("groups{}/$entity", o.context_suffix()), select(group_json(&g), o.select.as_deref(), &[]), StatusCode::OK))
}

/// `POST /v1.0/groups`: Graph requires these four. Atrium's groups are security groups
/// (`mailEnabled` false, `securityEnabled` true, no `groupTypes`); anything else is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateGroup {
    display_name: String,
    mail_enabled: bool,
    mail_nickname: String,
    security_enabled: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    group_types: Option<Vec<String>>,
    #[serde(default, rename = "members@odata.bind")]
    members: Option<Vec<String>>,
}

async fn create_group(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &GROUP, NONE)?;
    let req: CreateGroup = super::body(&body)?;
    if req.mail_enabled {
        return Err(GraphError::bad_request("Atrium's groups are security groups: mailEnabled must be false.").with_target("mailEnabled"));
    }
    if !req.security_enabled {
        return Err(GraphError::bad_request("Atrium's groups are security groups: securityEnabled must be true.").with_target("securityEnabled"));
    }
    if req.group_types.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(GraphError::bad_request("Microsoft 365 (Unified) and dynamic groups are not supported: groupTypes must be empty.").with_target("groupTypes"));
    }
    if req.mail_nickname.trim().is_empty() {
        return Err(GraphError::bad_request("mailNickname is required.").with_target("mailNickname"));
    }
    let members = req
        .members
        .unwrap_or_default()
        .iter()
        .map(|m| super::reference(m).map(|id| id.to_string()))
        .collect::<GraphResult<Vec<_>>>()
        .map_err(|e| e.with_target("members@odata.bind"))?;
    let input = NewGroup { display_name: req.display_name, description: req.description, members };
    let g = st.services.create_group(&actor, actor.tenant_id, input).await?;
    Ok(entity(&ctx, "groups/$entity", Value::Object(group_json(&g)), StatusCode::CREATED))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchGroup {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    description: Option<Option<String>>,
}

fn clearable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn update_group(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &GROUP, NONE)?;
    let req: PatchGroup = super::body(&body)?;
    let patch = GroupPatch { display_name: req.display_name, description: req.description };
    st.services.update_group(&actor, actor.tenant_id, group_id(&id)?, patch).await.map_err(|e| not_found(e, &id))?;
    Ok(no_content())
}

async fn delete_group(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &GROUP, NONE)?;
    st.services.delete_group(&actor, actor.tenant_id, group_id(&id)?).await.map_err(|e| not_found(e, &id))?;
    Ok(no_content())
}

/// `members` and `transitiveMembers`: users, paged with `$top` and `$skiptoken`.
async fn list_members(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &USER, LIST)?;
    if o.filter.is_some() || o.order.is_some() || o.count {
        return Err(GraphError::unsupported_query("$filter, $search, $orderby and $count are not supported on group members yet.").with_target("$filter"));
    }
    let gid = group_id(&id)?;
    let lq = ListQuery { prefix: None, after: o.after.clone(), limit: o.top.unwrap_or(odata::DEFAULT_TOP) };
    let page = st.services.list_group_members(&actor, actor.tenant_id, gid, &lq).await.map_err(|e| not_found(e, &id))?;
    let items = page.items.iter().map(|u| user_object(u, o.select.as_deref())).collect();
    let path = format!("/v1.0/groups/{gid}/members");
    let next = page.next_cursor.map(|c| o.next_link(&ctx.base, &path, &c));
    Ok(collection(&ctx, "directoryObjects", items, None, next))
}

/// `POST /groups/{id}/members/$ref` with `{"@odata.id": ".../directoryObjects/{userId}"}`.
async fn add_member(State(st): State<AppState>, Path(id): Path<String>, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let member = super::reference_id(&body)?;
    let gid = group_id(&id)?;
    st.services
        .add_group_member(&actor, actor.tenant_id, gid, UserId::from_uuid(member))
        .await
        .map_err(|e| match e.code {
            atrium_core::ErrorCode::UserNotFound => not_found(e, &member.to_string()),
            atrium_core::ErrorCode::GroupNotFound => not_found(e, &id),
            _ => e.into(),
        })?;
    Ok(no_content())
}

/// `DELETE /groups/{id}/members/{memberId}/$ref`.
async fn remove_member(State(st): State<AppState>, Path((id, member)): Path<(String, String)>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let gid = group_id(&id)?;
    let uid = UserId::parse(&member, "memberId").map_err(|_| not_found(atrium_core::Error::new(atrium_core::ErrorCode::UserNotFound), &member))?;
    st.services.remove_group_member(&actor, actor.tenant_id, gid, uid).await.map_err(|e| match e.code {
        atrium_core::ErrorCode::GroupNotFound => not_found(e, &id),
        _ => not_found(e, &member),
    })?;
    Ok(no_content())
}

/// Atrium's groups have no owners yet: the list is empty (adding owners is not supported).
async fn list_owners(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    st.services.get_group(&actor, actor.tenant_id, group_id(&id)?).await.map_err(|e| not_found(e, &id))?;
    Ok(collection(&ctx, "directoryObjects", Vec::new(), None, None))
}
