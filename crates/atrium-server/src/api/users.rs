//! Users of a tenant.

use super::{convert, tenant_id, user_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated, ListParams};
use crate::state::AppState;
use atrium_api_types::{CreateUserRequest, CreateUserResponse, ErrorResponse, Group, Page, UpdateUserRequest, User};
use atrium_core::services::{NewUser, UserPatch};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(list_user_groups))
}

/// Lists or searches users, ordered by userPrincipalName.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/users", tag = "users", security(("bearer" = [])),
    params(
        ("tenantId" = uuid::Uuid, Path),
        ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", description = "Case-insensitive prefix of the userPrincipalName or display name"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50"),
    ),
    responses((status = 200, body = Page<User>), (status = 404, body = ErrorResponse)))]
async fn list_users(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ListParams(q): ListParams,
) -> ApiResult<Json<Page<User>>> {
    let page = st.services.list_users(&actor, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::user)))
}

/// Creates a user. Without a password, a temporary one is returned once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenantId}/users", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path)), request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreateUserResponse),
        (status = 400, description = "Invalid UPN, email, name or password", body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 409, description = "UPN taken, or a directory-sync tenant", body = ErrorResponse),
    ))]
async fn create_user(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tid): Path<String>,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreateUserResponse>)> {
    let input = NewUser {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        given_name: req.given_name,
        surname: req.surname,
        mail: req.mail,
        password: req.password,
        force_change_password: req.force_change_password,
        global_admin: req.global_admin,
        recovery_email: req.recovery_email,
        enabled: req.enabled,
    };
    let created = st.services.create_user(&actor, tenant_id(&tid)?, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateUserResponse {
            user: convert::user(&created.user),
            temporary_password: created.temporary_password.map(|p| p.expose().to_owned()),
        }),
    ))
}

/// Reads a user by id or userPrincipalName.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path, description = "GUID or userPrincipalName")),
    responses((status = 200, body = User), (status = 404, body = ErrorResponse)))]
async fn get_user(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, uid)): Path<(String, String)>,
) -> ApiResult<Json<User>> {
    let u = st.services.get_user(&actor, tenant_id(&tid)?, &uid).await?;
    Ok(Json(convert::user(&u)))
}

/// Updates a user; `null` clears an optional field.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenantId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = User), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn update_user(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, uid)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> ApiResult<Json<User>> {
    let patch = UserPatch {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        given_name: req.given_name,
        surname: req.surname,
        mail: req.mail,
        recovery_email: req.recovery_email,
        enabled: req.enabled,
        global_admin: req.global_admin,
    };
    let u = st.services.update_user(&actor, tenant_id(&tid)?, user_id(&uid)?, patch).await?;
    Ok(Json(convert::user(&u)))
}

/// Deletes a user from the directory.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenantId}/users/{userId}", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn delete_user(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, uid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    st.services.delete_user(&actor, tenant_id(&tid)?, user_id(&uid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The groups a user is a direct member of.
#[utoipa::path(get, path = "/api/v1/tenants/{tenantId}/users/{userId}/groups", tag = "users", security(("bearer" = [])),
    params(("tenantId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Group>), (status = 404, body = ErrorResponse)))]
async fn list_user_groups(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((tid, uid)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Group>>> {
    let gs = st.services.list_user_groups(&actor, tenant_id(&tid)?, user_id(&uid)?).await?;
    Ok(Json(gs.iter().map(convert::group).collect()))
}
