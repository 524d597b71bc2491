//! The owner's "View history": the pages and API routes a member used in the last 30 days.

use super::members::{MemberRow, find_member, row, tab_of};
use super::{AccountCtx, Layout, PageQuery, PageResult, Pager, Session, render, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::services::ACTIVITY_DAYS;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{accountId}/members/{type}/{principalId}/history", get(history))
}

#[derive(Clone)]
pub struct Visit {
    pub at: String,
    pub method: String,
    pub route: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    l: Layout,
    base: String,
    m: MemberRow,
    tab: &'static str,
    days: i64,
    visits: Vec<Visit>,
    pager: Pager,
}

async fn history(State(st): State<AppState>, s: Session, Path((id, kind, pid)): Path<(String, String, String)>, Query(q): Query<PageQuery>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let m = find_member(&st, &ctx, &kind, &pid).await?;
    let rows = st.services.member_activity(&s.actor, ctx.id, &kind, &pid).await?;
    let all: Vec<Visit> = rows.iter().map(|a| Visit { at: when(a.at), method: a.method.clone(), route: a.route.clone() }).collect();
    let (visits, pager) = Pager::slice(&all, q.page);
    Ok(render(&HistoryPage { l: ctx.layout("View history", "users"), base: ctx.base(), m: row(&m, ctx.program()), tab: tab_of(&kind), days: ACTIVITY_DAYS, visits, pager }))
}
