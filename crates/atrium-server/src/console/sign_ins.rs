//! Account settings → Tenants → "Sign-in logs": a tenant's global administrator reads every
//! sign-in attempt of the tenant (people and applications), newest first, kept 30 days, with
//! the failure code and reason as Entra words them. No secret is ever in a row.

use super::{AccountCtx, Layout, PageResult, Session, render, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::TenantId;
use atrium_core::page::ListQuery;
use atrium_core::sign_ins::SignInFilter;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{accountId}/tenants/{tenantId}/sign-ins", get(page))
}

pub struct SignInRow {
    pub at: String,
    pub who: String,
    pub app: String,
    pub succeeded: bool,
    pub status: String,
    pub client: String,
    pub mfa: bool,
    pub address: String,
}

#[derive(Template)]
#[template(path = "sign_ins.html")]
struct SignInsPage {
    l: Layout,
    base: String,
    tenant_id: String,
    domain: String,
    status: String,
    rows: Vec<SignInRow>,
    /// The "Older" link's cursor.
    next: Option<String>,
}

#[derive(Deserialize)]
struct Filter {
    status: Option<String>,
    cursor: Option<String>,
}

async fn page(State(st): State<AppState>, s: Session, Path((id, tid)): Path<(String, String)>, Query(f): Query<Filter>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let tid = TenantId::parse(&tid, "tenantId")?;
    // The service refuses anyone but the tenant's global administrators (and the instance's).
    let tenant = st.services.get_tenant(&s.actor, tid).await?;
    let status = f.status.unwrap_or_default();
    let success = match status.as_str() {
        "success" => Some(true),
        "failure" => Some(false),
        _ => None,
    };
    let q = ListQuery::parse(None, f.cursor.as_deref(), Some(50))?;
    let page = st.services.list_sign_ins(&s.actor, SignInFilter { tenant_id: Some(tid), success, ..SignInFilter::default() }, &q).await?;
    let rows = page
        .items
        .iter()
        .map(|e| SignInRow {
            at: when(e.created_at),
            who: e.user_principal_name.clone().unwrap_or_else(|| "(application)".into()),
            app: e.app_display_name.clone().or_else(|| e.app_id.clone()).unwrap_or_default(),
            succeeded: e.succeeded(),
            status: if e.succeeded() {
                "Success".into()
            } else {
                format!("Failure {}: {}", e.error_code, e.failure_reason.clone().unwrap_or_default())
            },
            client: e.client_app_used.clone(),
            mfa: e.mfa,
            address: e.ip_address.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(&SignInsPage {
        l: ctx.layout("Sign-in logs", "tenants"),
        base: ctx.base(),
        tenant_id: tid.to_string(),
        domain: tenant.domain.to_string(),
        status: if success.is_some() { status } else { String::new() },
        rows,
        next: page.next_cursor,
    }))
}
