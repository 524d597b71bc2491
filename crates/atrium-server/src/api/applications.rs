//! Application registrations and their keys.

use super::{convert, tenant_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated, ListParams};
use crate::state::AppState;
use atrium_api_types::{
    AddKeyRequest, Application, CreateApplicationRequest, CreatedKey, ErrorResponse, GrantGraphPermissionsRequest, GraphPermissionGrant, Key, Page, UpdateApplicationRequest,
};
use atrium_core::ids::KeyId;
use atrium_core::services::{ApplicationPatch, NewApplication};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_applications, create_application))
        .routes(routes!(get_application, update_application, delete_application))
        .routes(routes!(list_keys, add_key))
        .routes(routes!(remove_key))
        .routes(routes!(list_graph_permissions, grant_graph_permissions))
        .routes(routes!(revoke_graph_permission))
}

/// Lists or searches applications, ordered by display name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/applications", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", description = "Prefix of the display name"),
           ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200)),
    responses((status = 200, body = Page<Application>), (status = 404, body = ErrorResponse)))]
async fn list_applications(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ListParams(q): ListParams,
) -> ApiResult<Json<Page<Application>>> {
    let page = st.services.list_applications(&actor, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::application)))
}

/// Registers an application with Reply URLs and an optional App ID URI.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/applications", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = CreateApplicationRequest,
    responses((status = 201, body = Application), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse),
               (status = 409, description = "Reply URL or App ID URI taken, or a directory-sync tenant", body = ErrorResponse)))]
async fn create_application(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<CreateApplicationRequest>,
) -> ApiResult<(StatusCode, Json<Application>)> {
    let input = NewApplication {
        display_name: req.display_name,
        reply_urls: req.reply_urls,
        app_id_uri: req.app_id_uri,
        public_client: req.public_client,
    };
    let app = st.services.create_application(&actor, tenant_id(&tid)?, input).await?;
    Ok((StatusCode::CREATED, Json(convert::application(&app))))
}

/// Reads an application: Tenant ID, Client ID (`appId`), Reply URLs and App ID URI.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path, description = "Object id or appId")),
    responses((status = 200, body = Application), (status = 404, body = ErrorResponse)))]
async fn get_application(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
) -> ApiResult<Json<Application>> {
    let app = st.services.get_application(&actor, tenant_id(&tid)?, &aid).await?;
    Ok(Json(convert::application(&app)))
}

/// Changes the name, Reply URLs, App ID URI or public-client flag.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path)), request_body = UpdateApplicationRequest,
    responses((status = 200, body = Application), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn update_application(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateApplicationRequest>,
) -> ApiResult<Json<Application>> {
    let patch = ApplicationPatch {
        display_name: req.display_name,
        reply_urls: req.reply_urls,
        app_id_uri: req.app_id_uri,
        public_client: req.public_client,
    };
    let app = st.services.update_application(&actor, tenant_id(&tid)?, &aid, patch).await?;
    Ok(Json(convert::application(&app)))
}

/// Deletes an application and its keys.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse)))]
async fn delete_application(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    st.services.delete_application(&actor, tenant_id(&tid)?, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists the keys with created and expiry dates and a hint; never the values.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/keys", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Key>), (status = 404, body = ErrorResponse)))]
async fn list_keys(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Key>>> {
    let keys = st.services.list_application_keys(&actor, tenant_id(&tid)?, &aid).await?;
    let now = st.services.clock().now();
    Ok(Json(keys.iter().map(|k| convert::key(k, now)).collect()))
}

/// Adds a key. The response holds the Client ID and the key value, shown only this once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/keys", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path)), request_body = AddKeyRequest,
    responses((status = 201, body = CreatedKey), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn add_key(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
    ApiJson(req): ApiJson<AddKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let created = st.services.add_application_key(&actor, tenant_id(&tid)?, &aid, req.display_name, req.validity_months).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key_id: created.key.id.as_uuid(),
            client_id: created.client_id.as_uuid(),
            secret: created.secret.expose().to_owned(),
            hint: created.key.hint.clone(),
            created_at: created.key.created_at.to_rfc3339(),
            expires_at: created.key.expires_at.to_rfc3339(),
        }),
    ))
}

/// Removes a key; tokens can no longer be requested with it.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/keys/{keyId}", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path), ("keyId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse)))]
async fn remove_key(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid, kid)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let key = KeyId::parse(&kid, "keyId")?;
    st.services.remove_application_key(&actor, tenant_id(&tid)?, &aid, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn graph_grant(g: &atrium_core::services::GraphGrant) -> GraphPermissionGrant {
    GraphPermissionGrant {
        permission: g.permission.value().to_owned(),
        app_role_id: g.assignment.app_role_id,
        resource_app_id: g.assignment.resource_app_id,
        id: g.assignment.id.as_uuid(),
        created_at: g.assignment.created_at.to_rfc3339(),
    }
}

/// Lists the Microsoft Graph application permissions granted to the application.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/graph-permissions", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path, description = "Object id or appId")),
    responses((status = 200, body = Vec<GraphPermissionGrant>), (status = 404, body = ErrorResponse)))]
async fn list_graph_permissions(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<GraphPermissionGrant>>> {
    let grants = st.services.list_graph_permissions(&actor, tenant_id(&tid)?, &aid).await?;
    Ok(Json(grants.iter().map(graph_grant).collect()))
}

/// Grants Microsoft Graph application permissions with admin consent (a global administrator
/// of the tenant). Returns every Graph permission the application then holds; new app-only
/// Graph tokens carry them in `roles`.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/graph-permissions", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path, description = "Object id or appId")), request_body = GrantGraphPermissionsRequest,
    responses((status = 200, body = Vec<GraphPermissionGrant>), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn grant_graph_permissions(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid)): Path<(String, String)>,
    ApiJson(req): ApiJson<GrantGraphPermissionsRequest>,
) -> ApiResult<Json<Vec<GraphPermissionGrant>>> {
    let grants = st.services.grant_graph_permissions(&actor, tenant_id(&tid)?, &aid, &req.permissions).await?;
    Ok(Json(grants.iter().map(graph_grant).collect()))
}

/// Removes one Microsoft Graph application permission; Atrium's Graph stops honouring it at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/applications/{applicationId}/graph-permissions/{permission}", tag = "applications", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("applicationId" = uuid::Uuid, Path, description = "Object id or appId"),
           ("permission" = String, Path, description = "Permission name (`User.Read.All`) or app role id")),
    responses((status = 204), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn revoke_graph_permission(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, aid, permission)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    st.services.revoke_graph_permission(&actor, tenant_id(&tid)?, &aid, &permission).await?;
    Ok(StatusCode::NO_CONTENT)
}
