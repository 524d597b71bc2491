//! SCIM 2.0 (RFC 7643/7644) inbound provisioning at `/scim/v2` (and `/scim`, which Entra also
//! accepts): a thin adapter over the provisioning services. Resources are rendered to and read
//! from JSON documents here; the rules (uniqueness, deprovisioning, ownership) live in the core.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod groups;
pub mod patch;
pub mod users;

use crate::state::AppState;
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::Provisioner;
use atrium_core::time::Timestamp;
use axum::Router;
use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error::{ScimError, ScimResult};
use serde_json::{Map, Value};

pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const MEDIA_TYPE: &str = "application/scim+json";
/// Most resources in one page (ServiceProviderConfig's `filter.maxResults`).
pub const MAX_COUNT: u32 = 200;
const DEFAULT_COUNT: u32 = 100;

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for prefix in ["/scim/v2", "/scim"] {
        r = r
            .route(&format!("{prefix}/ServiceProviderConfig"), get(discovery::service_provider_config))
            .route(&format!("{prefix}/ResourceTypes"), get(discovery::resource_types))
            .route(&format!("{prefix}/ResourceTypes/{{name}}"), get(discovery::resource_type))
            .route(&format!("{prefix}/Schemas"), get(discovery::schemas))
            .route(&format!("{prefix}/Schemas/{{id}}"), get(discovery::schema))
            .route(&format!("{prefix}/.search"), post(search_all))
            .route(&format!("{prefix}/Users"), get(users::list).post(users::create))
            .route(&format!("{prefix}/Users/.search"), post(users::search))
            .route(&format!("{prefix}/Groups/.search"), post(groups::search))
            .route(&format!("{prefix}/Users/{{id}}"), get(users::get).put(users::replace).patch(users::patch).delete(users::delete))
            .route(&format!("{prefix}/Groups"), get(groups::list).post(groups::create))
            .route(&format!("{prefix}/Groups/{{id}}"), get(groups::get).put(groups::replace).patch(groups::patch).delete(groups::delete));
    }
    // Anything else under the prefix is a SCIM 404 (also a known path with another method).
    r.route("/scim", axum::routing::any(unknown)).route("/scim/{*rest}", axum::routing::any(unknown))
}

async fn unknown() -> ScimError {
    ScimError::not_found("No such SCIM endpoint.")
}

/// A reply with `Content-Type: application/scim+json`.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))], bytes).into_response()
}

/// An authenticated SCIM request: the provisioning client and the base URL resources live under.
pub struct Ctx {
    pub p: Provisioner,
    /// E.g. `https://host/scim/v2`, as the client called it.
    pub base: String,
}

impl Ctx {
    pub fn base_of(st: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
        let prefix = if uri.path().starts_with("/scim/v2/") { "/scim/v2" } else { "/scim" };
        format!("{}{prefix}", crate::identity::base_url(st, headers))
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let unauthenticated = || ScimError::new(401, None, "Send a provisioning token of the tenant as Authorization: Bearer <token>.");
        let token = crate::extract::bearer_token(&parts.headers).map(Secret::new).ok_or_else(unauthenticated)?;
        let p = st.services.authenticate_provisioner(&token).await.map_err(|e| {
            if e.code == atrium_core::ErrorCode::Unauthenticated { ScimError::new(401, None, e.message) } else { ScimError::from(e) }
        })?;
        // Every write request counts once toward the token's limit (a search is a POST that
        // only reads); over it, 429 with Retry-After.
        let search = parts.uri.path().ends_with("/.search");
        let write = matches!(parts.method, axum::http::Method::POST | axum::http::Method::PUT | axum::http::Method::PATCH | axum::http::Method::DELETE);
        if write && !search {
            st.services.throttle_provisioning_write(&p).await?;
        }
        Ok(Ctx { p, base: Self::base_of(st, &parts.headers, &parts.uri) })
    }
}

/// A request body: JSON (sent as `application/scim+json` or `application/json`), an object.
/// Read strictly (`crate::json`): trailing data, a key twice or a NUL character is refused.
pub fn parse_body(bytes: &[u8]) -> ScimResult<Map<String, Value>> {
    match crate::json::parse_value(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ScimError::invalid_syntax("The request body must be a JSON object.")),
        Err(e) => Err(ScimError::from(e)),
    }
}

/// A JSON value for key `name` of an object, with the name matched case-insensitively.
pub fn get_ci<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// `meta.version` and `ETag`: the modification time in milliseconds, a weak validator.
pub fn etag(t: Timestamp) -> String {
    format!("W/\"{}\"", t.as_millis())
}

/// The version an `If-Match` names: `None` without one (or `*`); a value that is no version of
/// ours can match nothing.
pub fn if_match(headers: &HeaderMap) -> ScimResult<Option<Timestamp>> {
    let Some(v) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let v = v.to_str().map_err(|_| ScimError::precondition_failed())?.trim();
    if v == "*" {
        return Ok(None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.parse::<i64>().map(|ms| Some(Timestamp::from_millis(ms))).map_err(|_| ScimError::precondition_failed())
}

/// A resource reply: the document, with `ETag` and (on create) `Location`.
pub fn resource_reply(status: StatusCode, doc: &Value, version: Timestamp) -> Response {
    let mut res = scim_json(status, doc);
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(loc) = doc.pointer("/meta/location").and_then(Value::as_str).and_then(|l| HeaderValue::from_str(l).ok())
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// The query parameters SCIM reads, names matched case-insensitively.
#[derive(Debug, Default)]
pub struct Params {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<Vec<String>>,
    pub excluded: Option<Vec<String>>,
}

impl Params {
    pub fn from_query(q: &RawQuery) -> Params {
        let mut p = Params::default();
        let split = |v: &str| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
        for (k, v) in form_urlencoded::parse(q.0.as_deref().unwrap_or_default().as_bytes()) {
            match k.to_ascii_lowercase().as_str() {
                "filter" => p.filter = Some(v.into_owned()),
                "startindex" => p.start_index = Some(v.into_owned()),
                "count" => p.count = Some(v.into_owned()),
                "attributes" => p.attributes = Some(split(&v)),
                "excludedattributes" => p.excluded = Some(split(&v)),
                _ => {}
            }
        }
        p
    }

    /// The parameters of a POST `.search` (RFC 7644 §3.4.3): a SearchRequest body.
    pub fn from_search(body: &Map<String, Value>) -> ScimResult<Params> {
        let list = |name: &str| -> ScimResult<Option<Vec<String>>> {
            match get_ci(body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(a)) => Ok(Some(a.iter().filter_map(Value::as_str).map(str::to_owned).collect())),
                Some(Value::String(s)) => Ok(Some(s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())),
                Some(_) => Err(ScimError::invalid_value(format!("'{name}' must be an array of attribute names."))),
            }
        };
        Ok(Params {
            filter: as_text(get_ci(body, "filter"), "filter")?,
            start_index: as_text(get_ci(body, "startIndex"), "startIndex")?,
            count: as_text(get_ci(body, "count"), "count")?,
            attributes: list("attributes")?,
            excluded: list("excludedAttributes")?,
        })
    }

    /// `startIndex` (1-based, values below 1 mean 1) and `count` (default 100, at most 200).
    pub fn paging(&self) -> ScimResult<(u32, u32)> {
        let num = |v: &Option<String>, name: &str| -> ScimResult<Option<i64>> {
            v.as_deref().map(|s| s.trim().parse::<i64>().map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer.")))).transpose()
        };
        let start = num(&self.start_index, "startIndex")?.unwrap_or(1).max(1);
        let count = num(&self.count, "count")?.unwrap_or(i64::from(DEFAULT_COUNT)).clamp(0, i64::from(MAX_COUNT));
        Ok((u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(count).unwrap_or(MAX_COUNT)))
    }

    /// Whether the reply needs attribute `name` (a top-level core attribute), e.g. a group's members.
    pub fn wants(&self, name: &str) -> bool {
        let hits = |list: &Vec<String>| list.iter().any(|a| a.eq_ignore_ascii_case(name) || a.to_ascii_lowercase().starts_with(&format!("{}.", name.to_ascii_lowercase())) || a.to_ascii_lowercase().ends_with(&format!(":{}", name.to_ascii_lowercase())));
        if let Some(a) = &self.attributes {
            return hits(a);
        }
        !self.excluded.as_ref().is_some_and(|e| e.iter().any(|a| a.eq_ignore_ascii_case(name) || a.to_ascii_lowercase().ends_with(&format!(":{}", name.to_ascii_lowercase()))))
    }

    /// Applies `attributes` / `excludedAttributes` to a rendered resource; `id`, `schemas`
    /// and `meta` are always returned.
    pub fn project(&self, doc: Value) -> Value {
        let Value::Object(mut m) = doc else { return doc };
        if let Some(attrs) = &self.attributes {
            let mut out = Map::new();
            for k in ["schemas", "id", "meta"] {
                if let Some(v) = m.get(k) {
                    out.insert(k.to_owned(), v.clone());
                }
            }
            for a in attrs {
                if let Ok(p) = filter::parse_path(a) {
                    copy_path(&m, &mut out, &p);
                }
            }
            return Value::Object(out);
        }
        if let Some(ex) = &self.excluded {
            for a in ex {
                if let Ok(p) = filter::parse_path(a) {
                    remove_path(&mut m, &p);
                }
            }
        }
        Value::Object(m)
    }
}

/// The object a path's attribute lives in: the resource, or its extension object.
fn container_key(m: &Map<String, Value>, p: &filter::PatchPath) -> Option<String> {
    let schema = p.schema.as_deref()?;
    if discovery::USER_SCHEMA.eq_ignore_ascii_case(schema) || discovery::GROUP_SCHEMA.eq_ignore_ascii_case(schema) {
        return None;
    }
    m.keys().find(|k| k.eq_ignore_ascii_case(schema)).cloned().or_else(|| Some(schema.to_owned()))
}

fn key_ci(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

fn copy_path(src: &Map<String, Value>, out: &mut Map<String, Value>, p: &filter::PatchPath) {
    let (from, to) = match container_key(src, p) {
        Some(ext) => {
            let Some(Value::Object(e)) = src.get(&ext) else { return };
            if p.attr.is_empty() {
                out.insert(ext.clone(), Value::Object(e.clone()));
                return;
            }
            let Value::Object(t) = out.entry(ext.clone()).or_insert_with(|| Value::Object(Map::new())) else { return };
            (e, t)
        }
        None => (src, &mut *out),
    };
    let Some(k) = key_ci(from, &p.attr) else { return };
    let Some(v) = from.get(&k) else { return };
    match &p.sub_attr {
        None => {
            to.insert(k, v.clone());
        }
        Some(sub) => {
            let pick = |o: &Value| -> Option<Value> {
                let o = o.as_object()?;
                let sk = key_ci(o, sub)?;
                let mut n = Map::new();
                n.insert(sk.clone(), o.get(&sk)?.clone());
                Some(Value::Object(n))
            };
            let picked = match v {
                Value::Array(items) => Value::Array(items.iter().filter_map(pick).collect()),
                o => pick(o).unwrap_or(Value::Null),
            };
            // Merge with what other requested sub-attributes already put there.
            match (to.get_mut(&k), picked) {
                (Some(Value::Object(have)), Value::Object(new)) => have.extend(new),
                (Some(Value::Array(have)), Value::Array(new)) if have.len() == new.len() => {
                    for (h, n) in have.iter_mut().zip(new) {
                        if let (Value::Object(h), Value::Object(n)) = (h, n) {
                            h.extend(n);
                        }
                    }
                }
                (_, Value::Null) => {}
                (_, new) => {
                    to.insert(k, new);
                }
            }
        }
    }
}

fn remove_path(m: &mut Map<String, Value>, p: &filter::PatchPath) {
    if matches!(p.attr.to_ascii_lowercase().as_str(), "id" | "schemas" | "meta") && p.schema.is_none() {
        return;
    }
    let target = match container_key(m, p) {
        Some(ext) => {
            if p.attr.is_empty() {
                m.remove(&ext);
                return;
            }
            match m.get_mut(&ext) {
                Some(Value::Object(e)) => e,
                _ => return,
            }
        }
        None => m,
    };
    let Some(k) = key_ci(target, &p.attr) else { return };
    match &p.sub_attr {
        None => {
            target.remove(&k);
        }
        Some(sub) => match target.get_mut(&k) {
            Some(Value::Array(items)) => {
                for i in items {
                    if let Some(o) = i.as_object_mut()
                        && let Some(sk) = key_ci(o, sub)
                    {
                        o.remove(&sk);
                    }
                }
            }
            Some(Value::Object(o)) => {
                if let Some(sk) = key_ci(o, sub) {
                    o.remove(&sk);
                }
            }
            _ => {}
        },
    }
}

/// `POST /.search` at the root: users, then groups, as one list.
async fn search_all(axum::extract::State(st): axum::extract::State<AppState>, ctx: Ctx, body: axum::body::Bytes) -> ScimResult<Response> {
    use filter::{ScimResource, parse_filter};
    let params = Params::from_search(&parse_body(&body)?)?;
    let (start, count) = params.paging()?;
    // A filter applies to the types it can be read for; a type it names no attribute of has no match.
    let (uf, gf) = match params.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => (Some(None), Some(None)),
        Some(f) => match (parse_filter(f, ScimResource::User), parse_filter(f, ScimResource::Group)) {
            (Err(e), Err(_)) => return Err(e.into()),
            (u, g) => (u.ok().map(Some), g.ok().map(Some)),
        },
    };
    let offset = start - 1;
    let mut items = Vec::new();
    let mut total = 0u64;
    if let Some(uf) = uf {
        let page = st.services.query_provisioned_users(&ctx.p, uf, offset, count).await?;
        total += page.total;
        items.extend(page.items.iter().map(|u| params.project(users::render(u, &ctx.base))));
    }
    if let Some(gf) = gf {
        let users_total = total;
        let left = count.saturating_sub(u32::try_from(items.len()).unwrap_or(u32::MAX));
        let g_offset = u32::try_from(u64::from(offset).saturating_sub(users_total)).unwrap_or(u32::MAX);
        let with_members = params.wants("members");
        let page = st.services.query_provisioned_groups(&ctx.p, gf, g_offset, left, with_members).await?;
        total += page.total;
        items.extend(page.items.iter().map(|(g, m)| params.project(groups::render(g, m, with_members, &ctx.base))));
    }
    Ok(list_response(total, start, items))
}

/// A ListResponse.
pub fn list_response(total: u64, start: u32, items: Vec<Value>) -> Response {
    let body = serde_json::json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": items.len(),
        "Resources": items,
    });
    scim_json(StatusCode::OK, &body)
}

/// A boolean as clients send it: `true`, or the strings "True"/"False" of legacy Entra jobs.
pub fn as_bool(v: &Value, name: &str) -> ScimResult<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(ScimError::invalid_value(format!("'{name}' must be a boolean."))),
    }
}

/// A string attribute (numbers are taken as their text; `null` is absent).
pub fn as_text(v: Option<&Value>, name: &str) -> ScimResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ScimError::invalid_value(format!("'{name}' must be a string."))),
    }
}
