//! `/Users`: users rendered to SCIM (core schema + enterprise extension) and read back into the
//! whole state a source asserts ([`ProvisionUser`]).

use super::discovery::{ENTERPRISE_SCHEMA, USER_SCHEMA};
use super::error::{ScimError, ScimResult};
use super::filter::{ScimResource, parse_filter};
use super::{Ctx, Params, as_bool, as_text, get_ci, list_response, parse_body, resource_reply};
use crate::state::AppState;
use atrium_core::model::{ProvisionedEmail, User};
use atrium_core::services::provisioning::ProvisionUser;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A user as SCIM shows it. `active` appears only when the source set it.
pub fn render(u: &User, base: &str) -> Value {
    let p = u.provisioning.clone().unwrap_or_default();
    let mut doc = Map::new();
    doc.insert("id".into(), json!(u.id.to_string()));
    if let Some(x) = &p.external_id {
        doc.insert("externalId".into(), json!(x));
    }
    doc.insert("userName".into(), json!(p.user_name));
    let mut name = Map::new();
    if let Some(f) = &p.formatted_name {
        name.insert("formatted".into(), json!(f));
    }
    if let Some(f) = &u.surname {
        name.insert("familyName".into(), json!(f.as_str()));
    }
    if let Some(g) = &u.given_name {
        name.insert("givenName".into(), json!(g.as_str()));
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    doc.insert("displayName".into(), json!(u.display_name.as_str()));
    if let Some(t) = &p.title {
        doc.insert("title".into(), json!(t));
    }
    if let Some(a) = p.active {
        doc.insert("active".into(), json!(a));
    }
    if !p.emails.is_empty() {
        // `primary` always shown: false is as much an answer as true.
        let emails: Vec<Value> = p
            .emails
            .iter()
            .map(|e| {
                let mut o = json!({ "value": e.value, "primary": e.primary });
                if let Some(t) = &e.kind {
                    o["type"] = json!(t);
                }
                if let Some(d) = &e.display {
                    o["display"] = json!(d);
                }
                o
            })
            .collect();
        doc.insert("emails".into(), Value::Array(emails));
    }
    let mut ext = Map::new();
    if let Some(n) = &p.employee_number {
        ext.insert("employeeNumber".into(), json!(n));
    }
    if let Some(d) = &p.department {
        ext.insert("department".into(), json!(d));
    }
    if let Some(m) = p.manager {
        ext.insert("manager".into(), json!({ "value": m.to_string(), "$ref": format!("{base}/Users/{m}") }));
    }
    let mut schemas = vec![json!(USER_SCHEMA)];
    if !ext.is_empty() {
        schemas.push(json!(ENTERPRISE_SCHEMA));
        doc.insert(ENTERPRISE_SCHEMA.into(), Value::Object(ext));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    doc.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": u.created_at.to_rfc3339(),
            "lastModified": u.updated_at.to_rfc3339(),
            "location": format!("{base}/Users/{}", u.id),
            "version": super::etag(u.updated_at),
        }),
    );
    Value::Object(doc)
}

fn object<'a>(v: Option<&'a Value>, name: &str) -> ScimResult<Option<&'a Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ScimError::invalid_value(format!("'{name}' must be an object."))),
    }
}

/// The last segment of a `$ref` URI: the id it names.
pub fn id_of_ref(r: &str) -> String {
    r.trim_end_matches('/').rsplit('/').next().unwrap_or(r).to_owned()
}

/// Reads a User document (names case-insensitive, unknown attributes ignored).
pub fn parse(m: &Map<String, Value>) -> ScimResult<ProvisionUser> {
    let name = object(get_ci(m, "name"), "name")?;
    let from_name = |k: &str| -> ScimResult<Option<String>> { name.map_or(Ok(None), |n| as_text(get_ci(n, k), &format!("name.{k}"))) };
    let mut emails = Vec::new();
    match get_ci(m, "emails") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, e) in items.iter().enumerate() {
                let Value::Object(e) = e else { return Err(ScimError::invalid_value(format!("'emails[{i}]' must be an object."))) };
                emails.push(ProvisionedEmail {
                    value: as_text(get_ci(e, "value"), "emails.value")?.unwrap_or_default(),
                    kind: as_text(get_ci(e, "type"), "emails.type")?,
                    primary: get_ci(e, "primary").map(|v| as_bool(v, "emails.primary")).transpose()?.flatten().unwrap_or(false),
                    display: as_text(get_ci(e, "display"), "emails.display")?,
                });
            }
        }
        Some(_) => return Err(ScimError::invalid_value("'emails' must be an array.")),
    }
    let ext = object(get_ci(m, ENTERPRISE_SCHEMA), ENTERPRISE_SCHEMA)?;
    let from_ext = |k: &str| -> ScimResult<Option<String>> { ext.map_or(Ok(None), |e| as_text(get_ci(e, k), k)) };
    let manager = match ext.and_then(|e| get_ci(e, "manager")) {
        None | Some(Value::Null) => None,
        // Some clients send the manager's id alone.
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => match as_text(get_ci(o, "value"), "manager.value")? {
            Some(v) => Some(v),
            None => as_text(get_ci(o, "$ref"), "manager.$ref")?.map(|r| id_of_ref(&r)),
        },
        Some(_) => return Err(ScimError::invalid_value("'manager' must be an object.")),
    };
    Ok(ProvisionUser {
        user_name: as_text(get_ci(m, "userName"), "userName")?.unwrap_or_default(),
        external_id: as_text(get_ci(m, "externalId"), "externalId")?,
        display_name: as_text(get_ci(m, "displayName"), "displayName")?,
        given_name: from_name("givenName")?,
        family_name: from_name("familyName")?,
        formatted_name: from_name("formatted")?,
        emails,
        active: get_ci(m, "active").map(|v| as_bool(v, "active")).transpose()?.flatten(),
        title: as_text(get_ci(m, "title"), "title")?,
        department: from_ext("department")?,
        employee_number: from_ext("employeeNumber")?,
        manager,
    })
}

pub async fn list(State(st): State<AppState>, ctx: Ctx, q: RawQuery) -> ScimResult<Response> {
    list_with(&st, &ctx, Params::from_query(&q)).await
}

/// `POST /Users/.search`.
pub async fn search(State(st): State<AppState>, ctx: Ctx, body: Bytes) -> ScimResult<Response> {
    list_with(&st, &ctx, Params::from_search(&parse_body(&body)?)?).await
}

async fn list_with(st: &AppState, ctx: &Ctx, params: Params) -> ScimResult<Response> {
    let (start, count) = params.paging()?;
    let filter = params.filter.as_deref().filter(|f| !f.trim().is_empty()).map(|f| parse_filter(f, ScimResource::User)).transpose()?;
    let page = st.services.query_provisioned_users(&ctx.p, filter, start - 1, count).await?;
    let items = page.items.iter().map(|u| params.project(render(u, &ctx.base))).collect();
    Ok(list_response(page.total, start, items))
}

pub async fn create(State(st): State<AppState>, ctx: Ctx, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let input = parse(&parse_body(&body)?)?;
    let u = st.services.provision_user(&ctx.p, input).await?;
    Ok(resource_reply(StatusCode::CREATED, &Params::from_query(&q).project(render(&u, &ctx.base)), u.updated_at))
}

pub async fn get(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, q: RawQuery) -> ScimResult<Response> {
    let u = st.services.get_provisioned_user(&ctx.p, &id).await?;
    Ok(resource_reply(StatusCode::OK, &Params::from_query(&q).project(render(&u, &ctx.base)), u.updated_at))
}

pub async fn replace(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let input = parse(&parse_body(&body)?)?;
    let expected = super::if_match(&headers)?;
    let u = st.services.replace_provisioned_user(&ctx.p, &id, input, expected).await?;
    Ok(resource_reply(StatusCode::OK, &Params::from_query(&q).project(render(&u, &ctx.base)), u.updated_at))
}

pub async fn patch(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap, q: RawQuery, body: Bytes) -> ScimResult<Response> {
    let ops = super::patch::parse_ops(&parse_body(&body)?)?;
    let expected = super::if_match(&headers)?;
    let mut attempts = 0;
    loop {
        let current = st.services.get_provisioned_user(&ctx.p, &id).await?;
        if expected.is_some_and(|v| v != current.updated_at) {
            return Err(ScimError::precondition_failed());
        }
        let mut doc = render(&current, &ctx.base);
        super::patch::apply(&mut doc, &ops, super::patch::Kind::User)?;
        let Value::Object(m) = &doc else { return Err(ScimError::invalid_value("The patched resource is not an object.")) };
        let input = parse(m)?;
        match st.services.replace_provisioned_user(&ctx.p, &id, input, Some(current.updated_at)).await {
            Ok(u) => return Ok(resource_reply(StatusCode::OK, &Params::from_query(&q).project(render(&u, &ctx.base)), u.updated_at)),
            // Another writer came in between: apply the operations to its result instead.
            Err(e) if e.code == atrium_core::ErrorCode::ConcurrentChange && expected.is_none() && attempts < 3 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn delete(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, headers: HeaderMap) -> ScimResult<Response> {
    // If-Match is checked inside the delete's transaction, so nothing can change in between.
    st.services.delete_provisioned_user(&ctx.p, &id, super::if_match(&headers)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
