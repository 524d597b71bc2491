//! Microsoft Graph `/v1.0` for the directory, for clients written against Graph (the Graph
//! SDKs, the Azure CLI's `az ad`). An adapter like REST and the console: it parses Graph's
//! requests and OData options, calls the same services, and renders Graph's shapes. Who may do
//! what is decided in the services (`authz::directory` and the permission table in
//! `atrium_core::graph`), never here.
//!
//! - [`error`]: Graph's error shape and headers; [`odata`]: query options;
//! - [`users`], [`groups`], [`directory`] (organization, domains, directory objects),
//!   [`invitations`], [`audit_logs`] (sign-in logs).

mod audit_logs;
mod directory;
mod error;
mod groups;
mod invitations;
mod odata;
mod users;

pub(crate) use error::graph_error;

use crate::state::AppState;
use atrium_core::actor::Actor;
use atrium_core::secret::Secret;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use error::{GraphError, GraphResult};
use serde_json::{Map, Value, json};

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(invitations::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(directory::routes())
        .merge(audit_logs::routes())
        // Graph's answer for a path it does not know, in Graph's shape.
        .route("/v1.0/{*rest}", any(unknown_segment))
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::graph_headers))
}

async fn unknown_segment(req: Request) -> GraphError {
    let path = req.uri().path().trim_start_matches("/v1.0/");
    let segment = path.split('/').next().unwrap_or("").chars().take(100).collect::<String>();
    GraphError::bad_request(format!("Resource not found for the segment '{segment}'.")).with_target(segment)
}

/// The caller of a Graph request: a Graph access token (app-only or delegated) or an Atrium
/// session token, from `Authorization: Bearer`. Graph is a bearer API: cookies are not read.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let token = Secret::new(crate::extract::bearer_token(&parts.headers).unwrap_or(""));
        let base = crate::identity::base_url(st, &parts.headers);
        let actor = st.services.authenticate_graph(&token, &base).await?;
        // Every Graph write is counted per caller (`throttle_graph_writes_per_token`) before it
        // runs; a POST that only reads (`getByIds`) is not a write.
        let reads = parts.method == Method::GET || parts.method == Method::HEAD || parts.uri.path().ends_with("/getByIds");
        if !reads {
            st.services.throttle_graph_write(&actor).await?;
        }
        Ok(Caller(actor))
    }
}

/// What a handler needs to render links: the base URL clients see.
pub struct Ctx {
    pub base: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Ctx { base: crate::identity::base_url(st, &parts.headers) })
    }
}

impl Ctx {
    /// `https://host/v1.0/$metadata#<context>`.
    pub fn context(&self, context: &str) -> String {
        format!("{}/v1.0/$metadata#{context}", self.base)
    }
}

/// A JSON body of a Graph request: strict (unknown fields are named in a 400, as Graph does),
/// with the `@odata.type` annotations the SDKs add removed first.
pub fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> GraphResult<T> {
    let mut v = crate::json::parse_value(bytes)?;
    strip_odata_type(&mut v);
    let bytes = serde_json::to_vec(&v).map_err(|e| GraphError::bad_request(e.to_string()))?;
    Ok(crate::extract::parse_json(&bytes)?)
}

fn strip_odata_type(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("@odata.type");
            m.values_mut().for_each(strip_odata_type);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_odata_type),
        _ => {}
    }
}

/// Keeps only the `$select`ed properties (all when there is no `$select`).
pub fn select(mut obj: Map<String, Value>, select: Option<&[&'static str]>, always: &[&str]) -> Value {
    if let Some(sel) = select {
        obj.retain(|k, _| sel.contains(&k.as_str()) || always.contains(&k.as_str()));
    }
    Value::Object(obj)
}

/// One object: `@odata.context` first, then its properties.
pub fn entity(ctx: &Ctx, context: &str, obj: Value, status: StatusCode) -> Response {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(ctx.context(context)));
    if let Value::Object(m) = obj {
        out.extend(m);
    }
    (status, Json(Value::Object(out))).into_response()
}

/// A collection page: `@odata.context`, `@odata.count` when asked for, `@odata.nextLink` when
/// more pages follow, and `value`.
pub fn collection(ctx: &Ctx, context: &str, items: Vec<Value>, count: Option<u64>, next_link: Option<String>) -> Response {
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(ctx.context(context)));
    if let Some(c) = count {
        out.insert("@odata.count".into(), json!(c));
    }
    if let Some(n) = next_link {
        out.insert("@odata.nextLink".into(), json!(n));
    }
    out.insert("value".into(), Value::Array(items));
    Json(Value::Object(out)).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The id in a Graph reference body: `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`.
pub fn reference_id(bytes: &[u8]) -> GraphResult<uuid::Uuid> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ref {
        #[serde(rename = "@odata.id")]
        id: String,
    }
    let r: Ref = body(bytes)?;
    reference(&r.id).map_err(|e| e.with_target("@odata.id"))
}

/// The object id a Graph reference URL names. Any host is accepted (clients write Graph's
/// own); the last segment must be a GUID, as `directoryObjects/{id}` or `directoryObjects('{id}')`.
pub fn reference(url: &str) -> GraphResult<uuid::Uuid> {
    let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let last = last.rsplit('(').next().unwrap_or(last).trim_end_matches(')').trim_matches('\'');
    uuid::Uuid::parse_str(last).map_err(|_| GraphError::bad_request(format!("'{}' does not name a directory object by id.", url.chars().take(200).collect::<String>())))
}
