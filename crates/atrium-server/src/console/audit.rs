//! Account settings → Products (targets of product-level permissions) and the audit log.

use super::{AccountCtx, FieldErrors, Layout, PageQuery, PageResult, Pager, Post, Session, redirect, render, render_status, when};
use crate::state::AppState;
use askama::Template;
use atrium_core::audit::AuditFilter;
use atrium_core::ids::ProductId;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/audit", get(audit))
        .route("/accounts/{accountId}/products", get(products).post(create_product))
        .route("/accounts/{accountId}/products/{productId}/delete", post(delete_product))
}

#[derive(Clone)]
pub struct AuditRow {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub target: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    rows: Vec<AuditRow>,
    pager: Pager,
}

async fn audit(State(st): State<AppState>, s: Session, Path(id): Path<String>, Query(q): Query<PageQuery>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let events = st.services.list_account_audit(&s.actor, ctx.id, AuditFilter { limit: 500, ..AuditFilter::default() }).await?;
    let all: Vec<AuditRow> = events
        .iter()
        .map(|e| AuditRow {
            at: when(e.event.at),
            action: e.action_text.clone(),
            actor: e.actor_name.clone().unwrap_or_else(|| "System".into()),
            target: e.target_name.clone().unwrap_or_else(|| format!("{} {}", e.event.target_type, e.event.target_id)),
            // Key by key in words ("grant: Developer; Packages: Read/write (Game One)"); ids that
            // only programs need stay in the API.
            details: e.details.iter().filter(|(k, _)| !k.ends_with("Id")).map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(" · "),
        })
        .collect();
    let (rows, pager) = Pager::slice(&all, q.page);
    Ok(render(&AuditPage { l: ctx.layout("Audit log", "audit"), rows, pager }))
}

pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    l: Layout,
    base: String,
    products: Vec<ProductRow>,
    name: String,
    errors: FieldErrors,
    is_manager: bool,
}

async fn products_page(st: &AppState, ctx: &AccountCtx, name: String, errors: FieldErrors) -> Result<ProductsPage, super::Failure> {
    let products = st
        .services
        .list_products(ctx.actor(), ctx.id)
        .await?
        .into_iter()
        .map(|p| ProductRow { id: p.id.to_string(), name: p.name.to_string(), created: when(p.created_at) })
        .collect();
    Ok(ProductsPage { l: ctx.layout("Products", "products"), base: ctx.base(), products, name, errors, is_manager: ctx.actions.manage_account.allowed() })
}

async fn products(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    Ok(render(&products_page(&st, &ctx, String::new(), FieldErrors::default()).await?))
}

async fn create_product(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    match st.services.create_product(&s.actor, ctx.id, f.get("name")).await {
        Ok(_) => Ok(redirect(&format!("{}/products", ctx.base()))),
        Err(e) => Ok(render_status(super::status_of(&e), &products_page(&st, &ctx, f.get("name").to_owned(), FieldErrors::from_error(&e, &["name"])).await?)),
    }
}

async fn delete_product(State(st): State<AppState>, Path((id, pid)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    st.services.delete_product(&s.actor, ctx.id, ProductId::parse(&pid, "productId")?).await?;
    Ok(redirect(&format!("{}/products", ctx.base())))
}
