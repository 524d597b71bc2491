//! `/v1.0/organization`, `/v1.0/domains` and `/v1.0/directoryObjects`: the caller's tenant,
//! its one (initial, default, verified) domain, and users and groups by id.

use super::error::{GraphError, GraphResult};
use super::groups::{GROUP, group_object};
use super::odata::{self, NONE};
use super::users::{USER, not_found, user_object};
use super::{Caller, Ctx, collection, entity};
use crate::state::AppState;
use atrium_core::model::Tenant;
use atrium_core::services::DirectoryObjectView;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1.0/organization", get(list_organization))
        .route("/v1.0/organization/{id}", get(get_organization))
        .route("/v1.0/domains", get(list_domains))
        .route("/v1.0/domains/{id}", get(get_domain))
        .route("/v1.0/directoryObjects/{id}", get(get_object))
        .route("/v1.0/directoryObjects/getByIds", post(get_by_ids))
}

fn organization_json(t: &Tenant) -> Value {
    json!({
        "id": t.id.as_uuid(),
        "displayName": t.display_name.as_str(),
        "createdDateTime": t.created_at.to_rfc3339(),
        "tenantType": "AAD",
        "countryLetterCode": null,
        "businessPhones": [],
        "technicalNotificationMails": t.contact_email.as_ref().map(|e| vec![e.as_str()]).unwrap_or_default(),
        "onPremisesSyncEnabled": t.directory_sync.then_some(true),
        "verifiedDomains": [{
            "name": t.domain.as_str(), "isDefault": true, "isInitial": true,
            "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline",
        }],
    })
}

fn domain_json(t: &Tenant) -> Value {
    json!({
        "id": t.domain.as_str(),
        "authenticationType": "Managed",
        "isAdminManaged": true,
        "isDefault": true,
        "isInitial": true,
        "isRoot": true,
        "isVerified": true,
        "supportedServices": ["Email", "OfficeCommunicationsOnline"],
    })
}

/// These small fixed sets take no query options; any is refused, not ignored.
fn options(q: Option<&str>, headers: &HeaderMap) -> GraphResult<()> {
    odata::parse(q, headers, &USER, NONE).map(drop)
}

async fn list_organization(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    options(q.as_deref(), &headers)?;
    let t = st.services.graph_organization(&actor).await?;
    Ok(collection(&ctx, "organization", vec![organization_json(&t)], None, None))
}

async fn get_organization(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    options(q.as_deref(), &headers)?;
    let t = st.services.graph_organization(&actor).await?;
    if !id.eq_ignore_ascii_case(&t.id.to_string()) {
        return Err(not_found(atrium_core::ErrorCode::TenantNotFound.into(), &id));
    }
    Ok(entity(&ctx, "organization/$entity", organization_json(&t), StatusCode::OK))
}

async fn list_domains(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    options(q.as_deref(), &headers)?;
    let t = st.services.graph_organization(&actor).await?;
    Ok(collection(&ctx, "domains", vec![domain_json(&t)], None, None))
}

async fn get_domain(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    options(q.as_deref(), &headers)?;
    let t = st.services.graph_organization(&actor).await?;
    if !id.eq_ignore_ascii_case(t.domain.as_str()) {
        return Err(not_found(atrium_core::ErrorCode::NotFound.into(), &id));
    }
    Ok(entity(&ctx, "domains/$entity", domain_json(&t), StatusCode::OK))
}

fn object_json(o: &DirectoryObjectView) -> Value {
    match o {
        DirectoryObjectView::User(u) => user_object(u, None),
        DirectoryObjectView::Group(g) => group_object(g, None),
    }
}

async fn get_object(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &GROUP, NONE)?;
    let missing = || not_found(atrium_core::ErrorCode::NotFound.into(), &id);
    let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| missing())?;
    let found = st.services.get_directory_objects(&actor, actor.tenant_id, &[uuid], true, true).await?;
    let o = found.first().ok_or_else(missing)?;
    Ok(entity(&ctx, "directoryObjects/$entity", object_json(o), StatusCode::OK))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ByIds {
    ids: Vec<String>,
    #[serde(default)]
    types: Option<Vec<String>>,
}

/// `POST /directoryObjects/getByIds` `{"ids":[…],"types":["user","group"]}`: the objects
/// found, in the order asked; ids not found are left out, as in Graph.
async fn get_by_ids(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &GROUP, NONE)?;
    let req: ByIds = super::body(&body)?;
    let (mut users, mut groups) = (true, true);
    if let Some(types) = &req.types {
        users = false;
        groups = false;
        for (i, t) in types.iter().enumerate() {
            match t.trim_start_matches("microsoft.graph.").to_ascii_lowercase().as_str() {
                "user" => users = true,
                "group" => groups = true,
                // Applications and service principals come with the applications part.
                "directoryobject" => (users, groups) = (true, true),
                _ => return Err(GraphError::bad_request(format!("'{t}' is not a type getByIds supports here (user, group).")).with_target(format!("types[{i}]"))),
            }
        }
    }
    let ids = req
        .ids
        .iter()
        .enumerate()
        .map(|(i, s)| uuid::Uuid::parse_str(s.trim()).map_err(|_| GraphError::bad_request(format!("'{s}' is not an object id.")).with_target(format!("ids[{i}]"))))
        .collect::<GraphResult<Vec<_>>>()?;
    let found = st.services.get_directory_objects(&actor, actor.tenant_id, &ids, users, groups).await?;
    Ok(collection(&ctx, "directoryObjects", found.iter().map(object_json).collect(), None, None))
}
