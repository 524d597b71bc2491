//! Groups of a tenant and their direct members.

use super::{convert, group_id, tenant_id, user_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated, ListParams};
use crate::state::AppState;
use atrium_api_types::{AddMemberRequest, CreateGroupRequest, ErrorResponse, Group, Page, UpdateGroupRequest, User};
use atrium_core::services::{GroupPatch, NewGroup};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
}

/// Lists or searches groups, ordered by name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/groups", tag = "groups", security(("bearer" = [])),
    params(
        ("tenantId" = uuid::Uuid, Path),
        ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", description = "Case-insensitive prefix of the name"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200),
    ),
    responses((status = 200, body = Page<Group>), (status = 404, body = ErrorResponse)))]
async fn list_groups(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ListParams(q): ListParams,
) -> ApiResult<Json<Page<Group>>> {
    let page = st.services.list_groups(&actor, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::group)))
}

/// Creates a group, optionally with members.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/groups", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = CreateGroupRequest,
    responses((status = 201, body = Group), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_group(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<CreateGroupRequest>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    let input = NewGroup { display_name: req.display_name, description: req.description, members: req.members };
    let g = st.services.create_group(&actor, tenant_id(&tid)?, input).await?;
    Ok((StatusCode::CREATED, Json(convert::group(&g))))
}

/// Reads a group.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path)),
    responses((status = 200, body = Group), (status = 404, body = ErrorResponse)))]
async fn get_group(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid)): Path<(String, String)>,
) -> ApiResult<Json<Group>> {
    let g = st.services.get_group(&actor, tenant_id(&tid)?, group_id(&gid)?).await?;
    Ok(Json(convert::group(&g)))
}

/// Renames a group or changes its description.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenantId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path)), request_body = UpdateGroupRequest,
    responses((status = 200, body = Group), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn update_group(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateGroupRequest>,
) -> ApiResult<Json<Group>> {
    let patch = GroupPatch { display_name: req.display_name, description: req.description };
    let g = st.services.update_group(&actor, tenant_id(&tid)?, group_id(&gid)?, patch).await?;
    Ok(Json(convert::group(&g)))
}

/// Deletes a group (its members stay in the directory).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/groups/{groupId}", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse)))]
async fn delete_group(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    st.services.delete_group(&actor, tenant_id(&tid)?, group_id(&gid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists a group's members, ordered by userPrincipalName.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/groups/{groupId}/members", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path), ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200)),
    responses((status = 200, body = Page<User>), (status = 404, body = ErrorResponse)))]
async fn list_members(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid)): Path<(String, String)>,
    ListParams(q): ListParams,
) -> ApiResult<Json<Page<User>>> {
    let page = st.services.list_group_members(&actor, tenant_id(&tid)?, group_id(&gid)?, &q).await?;
    Ok(Json(convert::page(page, convert::user)))
}

/// Adds a user of the same tenant to the group.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/groups/{groupId}/members", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path)), request_body = AddMemberRequest,
    responses((status = 204), (status = 404, body = ErrorResponse), (status = 409, description = "Already a member", body = ErrorResponse)))]
async fn add_member(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid)): Path<(String, String)>,
    ApiJson(req): ApiJson<AddMemberRequest>,
) -> ApiResult<StatusCode> {
    st.services.add_group_member(&actor, tenant_id(&tid)?, group_id(&gid)?, user_id(&req.user_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from the group.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/groups/{groupId}/members/{userId}", tag = "groups", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("groupId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse)))]
async fn remove_member(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, gid, uid)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    st.services.remove_group_member(&actor, tenant_id(&tid)?, group_id(&gid)?, user_id(&uid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
