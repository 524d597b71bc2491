//! Account settings → Tenants → "Directory sync (SCIM)": a tenant's global administrator
//! creates the token its source directory (Entra's provisioning service, Okta, an HR system)
//! presents at the SCIM URL, sees the tokens with their dates, and revokes one behind a
//! confirmation. The value of a new token is shown once.

use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, redirect, render, render_status, when};
use crate::api::provisioning::scim_url;
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::{ProvisioningTokenId, TenantId};
use atrium_core::model::{ProvisioningToken, Tenant};
use atrium_core::services::provisioning::{DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, NewProvisioningToken};
use atrium_core::time::Timestamp;
use atrium_core::{Error, ErrorCode};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/tenants/{tenantId}/provisioning", get(page))
        .route("/accounts/{accountId}/tenants/{tenantId}/provisioning/tokens", post(create))
        .route("/accounts/{accountId}/tenants/{tenantId}/provisioning/tokens/{tokenId}/revoke", get(revoke_confirm).post(revoke))
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
}

fn token_row(t: &ProvisioningToken, now: Timestamp) -> TokenRow {
    TokenRow { id: t.id.to_string(), name: t.name.clone(), created: when(t.created_at), expires: when(t.expires_at), expired: t.expires_at <= now }
}

pub struct NewToken {
    pub name: String,
    pub value: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "provisioning.html")]
struct ProvisioningPage {
    l: Layout,
    base: String,
    tenant_id: String,
    domain: String,
    directory_sync: bool,
    scim_url: String,
    tokens: Vec<TokenRow>,
    new_token: Option<NewToken>,
    name: String,
    days: String,
    days_hint: String,
    errors: FieldErrors,
}

/// The tenant of the page and its tokens. Both calls refuse callers who may not manage the
/// tenant's provisioning (404 for another tenant, 403 for a user who is not its global admin).
async fn load(st: &AppState, s: &Session, tid: &str) -> Result<(Tenant, Vec<ProvisioningToken>), Error> {
    let tid = TenantId::parse(tid, "tenantId")?;
    let tenant = st.services.get_tenant(&s.actor, tid).await?;
    let tokens = st.services.list_provisioning_tokens(&s.actor, tid).await?;
    Ok((tenant, tokens))
}

struct Form {
    name: String,
    days: String,
    errors: FieldErrors,
    status: StatusCode,
}

impl Form {
    fn empty() -> Self {
        Form { name: String::new(), days: DEFAULT_TOKEN_DAYS.to_string(), errors: FieldErrors::default(), status: StatusCode::OK }
    }
}

async fn render_page(st: &AppState, s: &Session, ctx: &AccountCtx, headers: &HeaderMap, tid: &str, new_token: Option<NewToken>, form: Form) -> PageResult {
    let (tenant, tokens) = load(st, s, tid).await?;
    let now = st.services.clock().now();
    Ok(render_status(
        form.status,
        &ProvisioningPage {
            l: ctx.layout(format!("Directory sync (SCIM) – {}", tenant.domain), "tenants"),
            base: ctx.base(),
            tenant_id: tenant.id.to_string(),
            domain: tenant.domain.to_string(),
            directory_sync: tenant.directory_sync,
            scim_url: scim_url(st, headers),
            tokens: tokens.iter().map(|t| token_row(t, now)).collect(),
            new_token,
            name: form.name,
            days: form.days,
            days_hint: format!("1 to {MAX_TOKEN_DAYS} days; {DEFAULT_TOKEN_DAYS} when empty."),
            errors: form.errors,
        },
    ))
}

async fn page(State(st): State<AppState>, headers: HeaderMap, s: Session, Path((id, tid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    render_page(&st, &s, &ctx, &headers, &tid, None, Form::empty()).await
}

async fn create(State(st): State<AppState>, headers: HeaderMap, Path((id, tid)): Path<(String, String)>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let tenant = TenantId::parse(&tid, "tenantId")?;
    let days = match f.opt("validDays") {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .map(Some)
            .map_err(|_| Error::new(ErrorCode::InvalidValidity).with_message(format!("A provisioning token is valid for 1 to {MAX_TOKEN_DAYS} days.")).with_target("validDays")),
    };
    let result = match days {
        Ok(valid_days) => st.services.create_provisioning_token(&s.actor, tenant, NewProvisioningToken { name: f.get("name").to_owned(), valid_days }).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            let new = NewToken { name: c.token.name.clone(), value: c.value.expose().to_owned(), expires: when(c.token.expires_at) };
            render_page(&st, &s, &ctx, &headers, &tid, Some(new), Form::empty()).await
        }
        // Input errors go next to their field; a refusal is the console's error page.
        Err(e) if e.code.http_status() == 400 => {
            let form = Form { name: f.get("name").to_owned(), days: f.get("validDays").to_owned(), errors: FieldErrors::from_error(&e, &["name", "validDays"]), status: super::status_of(&e) };
            render_page(&st, &s, &ctx, &headers, &tid, None, form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "provisioning_revoke.html")]
struct RevokePage {
    l: Layout,
    base: String,
    tenant_id: String,
    domain: String,
    token: TokenRow,
}

async fn revoke_confirm(State(st): State<AppState>, s: Session, Path((id, tid, token_id)): Path<(String, String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let (tenant, tokens) = load(&st, &s, &tid).await?;
    let token_id = ProvisioningTokenId::parse(&token_id, "tokenId")?;
    let t = tokens.iter().find(|t| t.id == token_id).ok_or_else(|| Error::new(ErrorCode::ProvisioningTokenNotFound).with_target("tokenId"))?;
    Ok(render(&RevokePage {
        l: ctx.layout("Revoke provisioning token", "tenants"),
        base: ctx.base(),
        tenant_id: tenant.id.to_string(),
        domain: tenant.domain.to_string(),
        token: token_row(t, st.services.clock().now()),
    }))
}

async fn revoke(State(st): State<AppState>, Path((id, tid, token_id)): Path<(String, String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let tenant = TenantId::parse(&tid, "tenantId")?;
    st.services.revoke_provisioning_token(&s.actor, tenant, ProvisioningTokenId::parse(&token_id, "tokenId")?).await?;
    Ok(redirect(&format!("{}/tenants/{}/provisioning", ctx.base(), tenant)))
}
