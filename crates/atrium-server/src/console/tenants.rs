//! Account settings → Tenants (seed 000): associate an existing tenant (sign in to it, review,
//! Confirm), create a new one, remove one behind a confirmation that states the consequences.

use super::{AccountCtx, FieldErrors, Layout, PageResult, Post, Session, redirect, render, render_status, when};
use crate::extract::PeerAddress;
use crate::state::AppState;
use askama::Template;
use atrium_core::ids::TenantId;
use atrium_core::secret::Secret;
use atrium_core::services::{NewTenant, NewTenantAdmin};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{accountId}/tenants", get(list))
        .route("/accounts/{accountId}/tenants/associate", get(associate_form).post(associate_review))
        .route("/accounts/{accountId}/tenants/associate/confirm", post(associate_confirm))
        .route("/accounts/{accountId}/tenants/new", get(create_form).post(create))
        .route("/accounts/{accountId}/tenants/{tenantId}/remove", get(remove_confirm).post(remove))
}

pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub associated: String,
    pub directory_sync: bool,
    pub current: bool,
    /// The caller may open the tenant's "Directory sync (SCIM)" page (its global administrator).
    pub provisioning: bool,
    /// The caller may read the tenant's sign-in logs (its global administrator, or the instance's).
    pub sign_ins: bool,
}

fn tenant_row(st: &AppState, t: &atrium_core::model::Tenant, associated: atrium_core::time::Timestamp, s: &Session) -> TenantRow {
    TenantRow {
        provisioning: st.services.may_manage_provisioning(&s.actor, t.id),
        sign_ins: st.services.may_read_sign_ins(&s.actor, t.id),
        current: t.id == s.actor.tenant_id,
        id: t.id.to_string(),
        name: t.display_name.to_string(),
        domain: t.domain.to_string(),
        associated: when(associated),
        directory_sync: t.directory_sync,
    }
}

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    l: Layout,
    base: String,
    tenants: Vec<TenantRow>,
    can_manage: bool,
}

async fn list(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let tenants = st
        .services
        .list_account_tenants(&s.actor, ctx.id)
        .await?
        .into_iter()
        .map(|(t, at)| tenant_row(&st, &t, at, &s))
        .collect();
    Ok(render(&TenantsPage { l: ctx.layout("Tenants", "tenants"), base: ctx.base(), can_manage: ctx.actions.manage_account.allowed(), tenants }))
}

#[derive(Template)]
#[template(path = "tenant_associate.html")]
struct AssociatePage {
    l: Layout,
    base: String,
    tenant: String,
    username: String,
    errors: FieldErrors,
}

async fn associate_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    Ok(render(&AssociatePage { l: ctx.layout("Associate a tenant", "tenants"), base: ctx.base(), tenant: String::new(), username: String::new(), errors: FieldErrors::default() }))
}

#[derive(Template)]
#[template(path = "tenant_review.html")]
struct ReviewPage {
    l: Layout,
    base: String,
    token: String,
    organization: String,
    domain: String,
    tenant_id: String,
}

async fn associate_review(State(st): State<AppState>, Path(id): Path<String>, PeerAddress(source): PeerAddress, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let otp = Some(Secret::new(f.get("otp").trim())).filter(|c| !c.expose().is_empty());
    let started = st
        .services
        .start_tenant_association(&s.actor, ctx.id, f.get("tenant").trim(), f.get("username").trim(), &Secret::new(f.get("password")), otp.as_ref(), source.as_deref())
        .await;
    match started {
        Ok((token, t)) => Ok(render(&ReviewPage {
            l: ctx.layout("Review the tenant", "tenants"),
            base: ctx.base(),
            token: token.expose().to_owned(),
            organization: t.display_name.to_string(),
            domain: t.domain.to_string(),
            tenant_id: t.id.to_string(),
        })),
        Err(e) => {
            let e = if e.code == atrium_core::ErrorCode::TenantNotFound { e.with_target("tenant") } else { e };
            let errors = FieldErrors::from_error(&e, &["tenant", "username", "password", "otp"]);
            // Wrong credentials of the other tenant's user are an input error here: this
            // session is signed in, so 401 would say the wrong thing.
            let status = if e.code.http_status() == 401 { StatusCode::BAD_REQUEST } else { super::status_of(&e) };
            let mut res = render_status(
                status,
                &AssociatePage { l: ctx.layout("Associate a tenant", "tenants"), base: ctx.base(), tenant: f.get("tenant").to_owned(), username: f.get("username").to_owned(), errors },
            );
            if let Some(t) = e.throttled {
                crate::error::retry_after(&mut res, t);
            }
            Ok(res)
        }
    }
}

async fn associate_confirm(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    st.services.confirm_tenant_association(&s.actor, ctx.id, &Secret::new(f.get("token"))).await?;
    Ok(redirect(&format!("{}/tenants", ctx.base())))
}

#[derive(Template)]
#[template(path = "tenant_new.html")]
struct CreatePage {
    l: Layout,
    base: String,
    prefix_hint: String,
    v: NewTenantForm,
    errors: FieldErrors,
}

#[derive(Default)]
struct NewTenantForm {
    display_name: String,
    prefix: String,
    contact: String,
    given: String,
    surname: String,
    username: String,
}

const CREATE_FIELDS: &[&str] =
    &["displayName", "domainPrefix", "contactEmail", "globalAdmin.givenName", "globalAdmin.surname", "globalAdmin.username", "globalAdmin.password"];

async fn create_form(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let suffix = st.services.policy().domain_suffix.as_str().to_owned();
    Ok(render(&CreatePage { l: ctx.layout("Create a tenant", "tenants"), base: ctx.base(), prefix_hint: format!("The unique prefix of the tenant's domain, which becomes <prefix>.{suffix}"), v: NewTenantForm::default(), errors: FieldErrors::default() }))
}

async fn create(State(st): State<AppState>, Path(id): Path<String>, Post { s, f }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    let prefix = f.get("domainPrefix").trim().to_owned();
    let display_name = f.opt("displayName").unwrap_or_else(|| prefix.clone());
    let input = NewTenant {
        display_name: display_name.clone(),
        domain_prefix: prefix.clone(),
        contact_email: f.opt("contactEmail"),
        directory_sync: f.checked("directorySync"),
        global_admin: Some(NewTenantAdmin {
            given_name: f.get("globalAdmin.givenName").to_owned(),
            surname: f.get("globalAdmin.surname").to_owned(),
            username: f.get("globalAdmin.username").trim().to_owned(),
            password: f.get("globalAdmin.password").to_owned(),
        }),
    };
    match st.services.create_account_tenant(&s.actor, ctx.id, input).await {
        Ok(_) => Ok(redirect(&format!("{}/tenants", ctx.base()))),
        Err(e) => {
            let errors = FieldErrors::from_error(&e, CREATE_FIELDS);
            let v = NewTenantForm {
                display_name: f.get("displayName").to_owned(),
                prefix,
                contact: f.get("contactEmail").to_owned(),
                given: f.get("globalAdmin.givenName").to_owned(),
                surname: f.get("globalAdmin.surname").to_owned(),
                username: f.get("globalAdmin.username").to_owned(),
            };
            let suffix = st.services.policy().domain_suffix.as_str().to_owned();
            Ok(render_status(super::status_of(&e), &CreatePage { l: ctx.layout("Create a tenant", "tenants"), base: ctx.base(), prefix_hint: format!("The unique prefix of the tenant's domain, which becomes <prefix>.{suffix}"), v, errors }))
        }
    }
}

#[derive(Template)]
#[template(path = "tenant_remove.html")]
struct RemovePage {
    l: Layout,
    base: String,
    tenant: TenantRow,
    last: bool,
    error: Option<String>,
}

async fn remove_page(st: &AppState, s: &Session, ctx: &AccountCtx, tid: &str, error: Option<atrium_core::Error>) -> PageResult {
    let tid = TenantId::parse(tid, "tenantId")?;
    let tenants = st.services.list_account_tenants(&s.actor, ctx.id).await?;
    let last = tenants.len() == 1;
    let (t, at) = tenants
        .into_iter()
        .find(|(t, _)| t.id == tid)
        .ok_or_else(|| atrium_core::Error::new(atrium_core::ErrorCode::TenantNotAssociated).with_target("tenantId"))?;
    let tenant = tenant_row(st, &t, at, s);
    // A refusal keeps its own status: 403 for who you are (R3's owner rule), 409 for the
    // tenant you signed in through.
    let status = error.as_ref().map_or(StatusCode::OK, super::status_of);
    Ok(render_status(status, &RemovePage { l: ctx.layout("Remove a tenant", "tenants"), base: ctx.base(), tenant, last, error: error.map(|e| e.message) }))
}

async fn remove_confirm(State(st): State<AppState>, s: Session, Path((id, tid)): Path<(String, String)>) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    remove_page(&st, &s, &ctx, &tid, None).await
}

async fn remove(State(st): State<AppState>, Path((id, tid)): Path<(String, String)>, Post { s, .. }: Post) -> PageResult {
    let ctx = AccountCtx::load(&st, &s, &id).await?;
    match st.services.remove_account_tenant(&s.actor, ctx.id, TenantId::parse(&tid, "tenantId")?).await {
        Ok(()) => Ok(redirect(&format!("{}/tenants", ctx.base()))),
        // A refusal (R3) is shown on the confirmation page itself.
        Err(e) if e.code != atrium_core::ErrorCode::Internal => remove_page(&st, &s, &ctx, &tid, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}
