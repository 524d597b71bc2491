//! `/v1.0/auditLogs/signIns` (microsoft.graph.signIn): the tenant's sign-in logs through the
//! same service as `GET /api/v1/sign-ins`, in the same Entra field names (the REST adapter's
//! conversion). `$filter` takes only what the service's filter expresses; anything else is a
//! `400 Request_UnsupportedQuery` naming it, never ignored.

use super::error::{GraphError, GraphResult};
use super::{Caller, Ctx, collection, entity};
use crate::state::AppState;
use atrium_core::ids::UserId;
use atrium_core::page::{DEFAULT_LIMIT, ListQuery};
use atrium_core::sign_ins::{SignInEntry, SignInFilter, parse_time};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Graph's largest `$top` for sign-ins.
const MAX_TOP: u32 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1.0/auditLogs/signIns", get(list_sign_ins)).route("/v1.0/auditLogs/signIns/{id}", get(get_sign_in))
}

/// A sign-in in Graph's shape: the REST API's fields, plus the ones Graph always carries.
fn sign_in_json(e: &SignInEntry) -> Value {
    let mut v = serde_json::to_value(crate::api::sign_ins::sign_in(e)).unwrap_or(Value::Null);
    // Atrium keeps no display name with the entry, nor additional details.
    v["userDisplayName"] = Value::Null;
    v["status"]["additionalDetails"] = Value::Null;
    v
}

async fn list_sign_ins(State(st): State<AppState>, ctx: Ctx, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let mut filter = SignInFilter::default();
    let mut top = DEFAULT_LIMIT;
    let mut after = None;
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(q.as_deref().unwrap_or("").as_bytes()) {
        let name = key.strip_prefix('$').unwrap_or(&key).to_ascii_lowercase();
        if seen.contains(&name) {
            return Err(GraphError::bad_request(format!("Query option '${name}' is specified more than once.")).with_target(format!("${name}")));
        }
        seen.push(name.clone());
        match name.as_str() {
            "top" => {
                top = value.trim().parse::<u32>().ok().filter(|t| (1..=MAX_TOP).contains(t)).ok_or_else(|| {
                    GraphError::unsupported_query(format!("Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive.")).with_target("$top")
                })?;
            }
            "filter" => parse_filter(&value, &mut filter)?,
            // The REST cursor, as `@odata.nextLink` wrote it.
            "skiptoken" => {
                let bad = || GraphError::bad_request("The $skiptoken is not valid; start again without it.").with_target("$skiptoken");
                let key = URL_SAFE_NO_PAD.decode(value.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
                after = Some(key);
                continue;
            }
            _ => return Err(GraphError::unsupported_query(format!("Query option '${name}' is not supported on auditLogs/signIns.")).with_target(format!("${name}"))),
        }
        kept.push((key.into_owned(), value.into_owned()));
    }
    let query = ListQuery { prefix: None, after, limit: top };
    let page = st.services.list_sign_ins(&actor, filter, &query).await.map_err(|e| {
        if e.code == atrium_core::ErrorCode::InvalidCursor { GraphError::bad_request("The $skiptoken is not valid; start again without it.").with_target("$skiptoken") } else { e.into() }
    })?;
    let items = page.items.iter().map(sign_in_json).collect();
    let next = page.next_cursor.map(|c| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            s.append_pair(k, v);
        }
        s.append_pair("$skiptoken", &c);
        format!("{}/v1.0/auditLogs/signIns?{}", ctx.base, s.finish())
    });
    Ok(collection(&ctx, "auditLogs/signIns", items, None, next))
}

async fn get_sign_in(State(st): State<AppState>, ctx: Ctx, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    if let Some((k, _)) = form_urlencoded::parse(q.as_deref().unwrap_or("").as_bytes()).next() {
        return Err(GraphError::unsupported_query(format!("Query option '{k}' is not supported on this request.")).with_target(k.into_owned()));
    }
    let shown: String = id.chars().take(200).collect();
    let not_found = || GraphError::not_found(format!("Resource '{shown}' does not exist or one of its queried reference-property objects are not present."));
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        // Authorization first: a caller without the permission learns nothing from the id.
        st.services.list_sign_ins(&actor, SignInFilter::default(), &ListQuery { prefix: None, after: None, limit: 1 }).await?;
        return Err(not_found());
    };
    let e = st.services.get_sign_in(&actor, uuid).await.map_err(|e| if e.code.http_status() == 404 { not_found() } else { e.into() })?;
    Ok(entity(&ctx, "auditLogs/signIns/$entity", sign_in_json(&e), StatusCode::OK))
}

/// `$filter`: clauses joined by `and`, each one of `userId eq '…'`, `appId eq '…'`,
/// `status/errorCode eq 0` / `ne 0`, `createdDateTime ge …` / `le …`.
fn parse_filter(text: &str, f: &mut SignInFilter) -> GraphResult<()> {
    let unsupported = |clause: &str| {
        GraphError::unsupported_query(format!(
            "Unsupported filter clause '{clause}': auditLogs/signIns takes userId eq, appId eq, status/errorCode eq 0 or ne 0, createdDateTime ge or le, joined by and."
        ))
        .with_target("$filter")
    };
    for clause in split_and(text) {
        let clause = clause.trim();
        let mut parts = clause.splitn(3, char::is_whitespace).filter(|s| !s.is_empty());
        let (Some(prop), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unsupported(clause));
        };
        let (op, value) = (op.to_ascii_lowercase(), value.trim());
        // A single OData string literal (`''` is a quote inside it); anything after it, such
        // as `or …`, makes the clause unsupported.
        let quoted = || value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).filter(|v| !v.replace("''", "").contains('\'')).map(|v| v.replace("''", "'"));
        match (prop, op.as_str()) {
            ("userId", "eq") => {
                let v = quoted().ok_or_else(|| unsupported(clause))?;
                let id = uuid::Uuid::parse_str(&v).map_err(|_| GraphError::bad_request(format!("userId must be a GUID: {value}")).with_target("$filter"))?;
                f.user_id = Some(UserId::from_uuid(id));
            }
            ("appId", "eq") => {
                let a = quoted().ok_or_else(|| unsupported(clause))?;
                if a.len() > 64 || a.chars().any(char::is_control) {
                    return Err(GraphError::bad_request(format!("appId must be a client id: {value}")).with_target("$filter"));
                }
                f.app_id = Some(a);
            }
            ("status/errorCode", "eq" | "ne") if value == "0" => f.success = Some(op == "eq"),
            ("createdDateTime", "ge" | "le") => {
                let t = parse_time(value.trim_matches('\'')).ok_or_else(|| GraphError::bad_request(format!("createdDateTime must be a date-time such as 2026-11-25T16:26:45Z: {value}")).with_target("$filter"))?;
                if op == "ge" {
                    f.from = Some(t);
                } else {
                    // The store's bound is exclusive; `le` includes its instant, and a time
                    // in whole seconds (as createdDateTime shows them) its whole second.
                    f.to = Some(t.plus_millis(if value.contains('.') { 1 } else { 1000 }));
                }
            }
            _ => return Err(unsupported(clause)),
        }
    }
    Ok(())
}

/// The clauses of `a and b and c` (`and` outside quotes, any case).
fn split_and(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut in_quote = false;
    for word in text.split(' ') {
        if !in_quote && word.eq_ignore_ascii_case("and") {
            out.push(cur.join(" "));
            cur.clear();
            continue;
        }
        in_quote ^= word.matches('\'').count() % 2 == 1;
        cur.push(word);
    }
    out.push(cur.join(" "));
    out
}
