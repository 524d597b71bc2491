//! Tenants.

use super::{convert, tenant_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated, ListParams};
use crate::state::AppState;
use atrium_api_types::{CreateTenantRequest, CreateTenantResponse, ErrorResponse, Page, Tenant, UpdateTenantRequest};
use atrium_core::services::{NewTenant, NewTenantAdmin, TenantPatch};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant, delete_tenant))
}

/// Lists tenants (instance admins see all; others the tenant they signed in through).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])),
    params(
        ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", description = "Case-insensitive prefix of the domain or display name"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50"),
    ),
    responses((status = 200, body = Page<Tenant>), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse)))]
async fn list_tenants(State(st): State<AppState>, Authenticated(actor): Authenticated, ListParams(q): ListParams) -> ApiResult<Json<Page<Tenant>>> {
    let page = st.services.list_tenants(&actor, &q).await?;
    Ok(Json(convert::page(page, convert::tenant)))
}

/// Creates a tenant `<domainPrefix>.<suffix>`, optionally with its first global administrator.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])), request_body = CreateTenantRequest,
    responses(
        (status = 201, body = CreateTenantResponse),
        (status = 400, description = "Invalid prefix, email, name or password", body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 409, description = "The domain is taken", body = ErrorResponse),
    ))]
async fn create_tenant(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<CreateTenantRequest>,
) -> ApiResult<(StatusCode, Json<CreateTenantResponse>)> {
    let input = NewTenant {
        display_name: req.display_name,
        domain_prefix: req.domain_prefix,
        contact_email: req.contact_email,
        directory_sync: req.directory_sync,
        global_admin: req.global_admin.map(|a| NewTenantAdmin {
            given_name: a.given_name,
            surname: a.surname,
            username: a.username,
            password: a.password,
        }),
    };
    let (tenant, admin) = st.services.create_tenant(&actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateTenantResponse { tenant: convert::tenant(&tenant), global_admin: admin.as_ref().map(convert::user) }),
    ))
}

/// Reads a tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}", tag = "tenants", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path, description = "The tenant's GUID")),
    responses((status = 200, body = Tenant), (status = 404, body = ErrorResponse)))]
async fn get_tenant(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(tid): Path<String>) -> ApiResult<Json<Tenant>> {
    let t = st.services.get_tenant(&actor, tenant_id(&tid)?).await?;
    Ok(Json(convert::tenant(&t)))
}

/// Changes a tenant's display name, contact email or directory-sync flag.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenantId}", tag = "tenants", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = UpdateTenantRequest,
    responses((status = 200, body = Tenant), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn update_tenant(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<UpdateTenantRequest>,
) -> ApiResult<Json<Tenant>> {
    let patch = TenantPatch { display_name: req.display_name, contact_email: req.contact_email, directory_sync: req.directory_sync };
    let t = st.services.update_tenant(&actor, tenant_id(&tid)?, patch).await?;
    Ok(Json(convert::tenant(&t)))
}

/// Deletes a tenant with all its users and groups.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}", tag = "tenants", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn delete_tenant(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(tid): Path<String>) -> ApiResult<StatusCode> {
    st.services.delete_tenant(&actor, tenant_id(&tid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
