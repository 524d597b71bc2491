//! `/Groups`: groups of users (Atrium groups do not nest), with `members` loaded only when the
//! reply shows them (`excludedAttributes=members` is how Entra reads a 10k-member group).

use super::discovery::GROUP_SCHEMA;
use super::error::{ScimError, ScimResult};
use super::filter::{ScimResource, parse_filter};
use super::users::id_of_ref;
use super::{Ctx, Params, as_text, get_ci, list_response, parse_body, resource_reply};
use crate::state::AppState;
use atrium_core::model::{Group, User};
use atrium_core::services::provisioning::ProvisionGroup;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub fn render(g: &Group, members: &[User], with_members: bool, base: &str) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([GROUP_SCHEMA]));
    doc.insert("id".into(), json!(g.id.to_string()));
    if let Some(x) = g.provisioning.as_ref().and_then(|p| p.external_id.as_ref()) {
        doc.insert("externalId".into(), json!(x));
    }
    doc.insert("displayName".into(), json!(g.name.to_string()));
    if with_members && !members.is_empty() {
        let list: Vec<Value> = members.iter().map(|u| json!({ "value": u.id.to_string(), "$ref": format!("{base}/Users/{}", u.id), "type": "User" })).collect();
        doc.insert("members".into(), Value::Array(list));
    }
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": g.created_at.to_rfc3339(),
            "lastModified": g.updated_at.to_rfc3339(),
            "location": format!("{base}/Groups/{}", g.id),
            "version": super::etag(g.updated_at),
        }),
    );
    Value::Object(doc)
}

/// The user id a member element names: its `value`, else the last segment of its `$ref`.
pub fn member_id(e: &Value) -> ScimResult<String> {
    match e {
        Value::Object(o) => match as_text(get_ci(o, "value"), "members.value")? {
            Some(v) => Ok(v),
            None => as_text(get_ci(o, "$ref"), "members.$ref")?.map(|r| id_of_ref(&r)).ok_or_else(|| ScimError::invalid_value("A member needs a 'value'.")),
        },
        Value::String(s) => Ok(s.clone()),
        _ => Err(ScimError::invalid_value("A member must be an object with a 'value'.")),
    }
}

pub fn parse(m: &Map<String, Value>) -> ScimResult<ProvisionGroup> {
    let members = match get_ci(m, "members") {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.iter().map(member_id).collect::<ScimResult<Vec<_>>>()?),
        Some(_) => return Err(ScimError::invalid_value("'members' must be an array.")),
    };
    Ok(ProvisionGroup {
        display_name: as_text(get_ci(m, "displayName"), "displayName")?.unwrap_or_default(),
        external_id: as_text(get_ci(m, "externalId"), "externalId")?,
        members,
    })
}

pub async fn list(State(st): State<AppState>, ctx: Ctx, q: RawQuery) -> ScimResult<Response> {
    list_with(&st, &ctx, Params::from_query(&q)).await
}

/// `POST /Groups/.search`.
pub async fn search(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> ScimResult<Response> {
    list_with(&st, &ctx, Params::from_search(&parse_body(&body)?)?).await
}

async fn list_with(st: &AppState, ctx: &Ctx, params: Params) -> ScimResult<Response> {
    let (start, count) = params.paging()?;
    let filter = params.filter.as_deref().filter(|f| !f.trim().is_empty()).map(|f| parse_filter(f, ScimResource::Group)).transpose()?;
    let with_members = params.wants("members");
    let page = st.services.query_provisioned_groups(&ctx.p, filter, start - 1, count, with_members).await?;
    let items = page.items.iter().map(|(g, m)| params.project(render(g, m, with_members, &ctx.base))).collect();
    Ok(list_response(page.total, start, items))
}

pub async fn create(State(st): State<AppState>, ctx: Ctx, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let input = parse(&parse_body(&body)?)?;
    let params = Params::from_query(&q);
    let (g, members) = st.services.provision_group(&ctx.p, input).await?;
    Ok(resource_reply(StatusCode::CREATED, &params.project(render(&g, &members, params.wants("members"), &ctx.base)), g.updated_at))
}

pub async fn get(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, q: RawQuery) -> ScimResult<Response> {
    let params = Params::from_query(&q);
    let with_members = params.wants("members");
    let (g, members) = st.services.get_provisioned_group(&ctx.p, &id, with_members).await?;
    Ok(resource_reply(StatusCode::OK, &params.project(render(&g, &members, with_members, &ctx.base)), g.updated_at))
}

pub async fn replace(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let input = parse(&parse_body(&body)?)?;
    let expected = super::if_match(&headers)?;
    let params = Params::from_query(&q);
    let (g, members) = st.services.replace_provisioned_group(&ctx.p, &id, input, expected).await?;
    Ok(resource_reply(StatusCode::OK, &params.project(render(&g, &members, params.wants("members"), &ctx.base)), g.updated_at))
}

pub async fn patch(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let ops = super::patch::parse_ops(&parse_body(&body)?)?;
    let expected = super::if_match(&headers)?;
    let params = Params::from_query(&q);
    let with_members = params.wants("members");
    // Member additions and removals go straight to the store: Entra sends them constantly, and
    // a large group's whole list must not be rewritten for each.
    if expected.is_none()
        && let Some((add, remove)) = super::patch::member_changes(&ops)?
    {
        st.services.change_provisioned_group_members(&ctx.p, &id, &add, &remove).await?;
        let (g, members) = st.services.get_provisioned_group(&ctx.p, &id, with_members).await?;
        return Ok(resource_reply(StatusCode::OK, &params.project(render(&g, &members, with_members, &ctx.base)), g.updated_at));
    }
    let mut attempts = 0;
    loop {
        let (current, members) = st.services.get_provisioned_group(&ctx.p, &id, true).await?;
        if expected.is_some_and(|v| v != current.updated_at) {
            return Err(ScimError::precondition_failed());
        }
        let mut doc = render(&current, &members, true, &ctx.base);
        super::patch::apply(&mut doc, &ops, super::patch::Kind::Group)?;
        let Value::Object(m) = &doc else { return Err(ScimError::invalid_value("The patched resource is not an object.")) };
        let mut input = parse(m)?;
        // Without `members` in the document, the patch removed them all.
        input.members.get_or_insert_with(Vec::new);
        match st.services.replace_provisioned_group(&ctx.p, &id, input, Some(current.updated_at)).await {
            Ok((g, members)) => return Ok(resource_reply(StatusCode::OK, &params.project(render(&g, &members, with_members, &ctx.base)), g.updated_at)),
            Err(e) if e.code == atrium_core::ErrorCode::ConcurrentChange && expected.is_none() && attempts < 3 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn delete(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap) -> ScimResult<Response> {
    // If-Match is checked inside the delete's transaction, so nothing can change in between.
    st.services.delete_provisioned_group(&ctx.p, &id, super::if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
