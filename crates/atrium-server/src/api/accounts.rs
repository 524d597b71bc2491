//! Partner accounts: tenants (seed 000), members (seed 002), products, the access check and the
//! account's audit log. Every handler calls one service; the services decide who may do what.

use super::{convert, tenant_id};
use crate::activity::PendingActivity;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Authenticated, ListParams, PeerAddress};
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use atrium_core::access::{self, GrantInput, PermissionInput};
use atrium_core::actor::Actor;
use atrium_core::audit::AuditFilter;
use atrium_core::ids::{AccountId, ProductId, UserId};
use atrium_core::secret::Secret;
use atrium_core::services::{MemberView, NewAccount, NewTenant, NewTenantAdmin, NewUser, PrincipalInput, is_account_owner};
use atrium_core::time::Timestamp;
use atrium_core::{Error, ErrorCode};
use axum::Json;
use axum::extract::{FromRequestParts, Path, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account))
        .routes(routes!(catalog))
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(start_association))
        .routes(routes!(confirm_association))
        .routes(routes!(remove_tenant))
        .routes(routes!(list_tenant_users))
        .routes(routes!(list_tenant_groups))
        .routes(routes!(list_tenant_applications))
        .routes(routes!(list_members, add_members))
        .routes(routes!(create_member_user))
        .routes(routes!(create_member_group))
        .routes(routes!(create_member_application))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(delete_from_organization))
        .routes(routes!(reset_password))
        .routes(routes!(member_activity))
        .routes(routes!(list_products, create_product))
        .routes(routes!(delete_product))
        .routes(routes!(check_access))
        .routes(routes!(check_access_batch))
        .routes(routes!(account_audit))
}

/// The caller of an account route. It also notes the request for the activity history
/// (written only if the response succeeds).
pub(crate) struct AccountActor {
    pub(crate) actor: Actor,
    pub(crate) account: AccountId,
}

impl FromRequestParts<AppState> for AccountActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Authenticated(actor) = Authenticated::from_request_parts(parts, st).await?;
        let params = RawPathParams::from_request_parts(parts, st)
            .await
            .map_err(|_| ApiError(Error::new(ErrorCode::InvalidRequest).with_message("bad path")))?;
        let raw = params.iter().find(|(k, _)| *k == "accountId").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let account = AccountId::parse(&raw, "accountId")?;
        let route = crate::activity::visited(parts);
        if let Some(p) = parts.extensions.get::<PendingActivity>() {
            p.set(account, actor.principal(), st.services.clock().now(), parts.method.as_str(), &route);
        }
        Ok(AccountActor { actor, account })
    }
}

pub(crate) fn grant_input(b: api::GrantBody) -> GrantInput {
    GrantInput {
        roles: b.roles,
        permissions: b.permissions.into_iter().map(|p| PermissionInput { permission: p.permission, level: p.level, products: p.products }).collect(),
    }
}

fn grant_body(g: &access::Grant) -> api::GrantBody {
    let i = g.to_input();
    api::GrantBody {
        roles: i.roles,
        permissions: i.permissions.into_iter().map(|p| api::PermissionBody { permission: p.permission, level: p.level, products: p.products }).collect(),
    }
}

fn principal_input(p: &api::PrincipalBody) -> PrincipalInput {
    PrincipalInput { kind: p.kind.clone(), id: p.id.clone(), tenant_id: p.tenant_id.clone() }
}

fn member(v: &MemberView) -> api::Member {
    api::Member {
        kind: v.member.principal.kind().to_owned(),
        id: v.member.principal.uuid(),
        tenant_id: v.member.tenant_id.as_uuid(),
        tenant_domain: Some(v.tenant_domain.clone()).filter(|d| !d.is_empty()),
        display_name: Some(v.display_name.clone()),
        identifier: v.identifier.clone(),
        grant: grant_body(&v.grant),
        added_at: v.member.added_at.to_rfc3339(),
        last_activity: v.last_activity.map(Timestamp::to_rfc3339),
        status: v.status.clone(),
    }
}

fn plain_member(m: &atrium_core::model::Member) -> Result<api::Member, Error> {
    Ok(api::Member {
        kind: m.principal.kind().to_owned(),
        id: m.principal.uuid(),
        tenant_id: m.tenant_id.as_uuid(),
        tenant_domain: None,
        display_name: None,
        identifier: None,
        grant: grant_body(&access::Grant::from_json(&m.grant_json)?),
        added_at: m.added_at.to_rfc3339(),
        last_activity: None,
        status: None,
    })
}

fn account(a: &atrium_core::model::Account, actor: &Actor, role: String) -> api::Account {
    api::Account {
        id: a.id.as_uuid(),
        name: a.name.to_string(),
        account_type: a.account_type.as_str().to_owned(),
        program: match a.program {
            access::Program::Developer => "developer".into(),
            access::Program::Hardware => "hardware".into(),
        },
        owner_user_id: a.owner_user_id.as_uuid(),
        is_owner: is_account_owner(a, actor),
        role,
        created_at: a.created_at.to_rfc3339(),
    }
}

/// The accounts you own or are a member of.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<api::Account>), (status = 401, body = ErrorResponse)))]
async fn list_accounts(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Json<Vec<api::Account>>> {
    let list = st.services.list_accounts(&actor).await?;
    Ok(Json(list.iter().map(|c| account(&c.account, &actor, c.role_label())).collect()))
}

/// Opens an account; the caller (a personal account) becomes its owner.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])), request_body = api::CreateAccountRequest,
    responses((status = 201, body = api::Account), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn create_account(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<api::CreateAccountRequest>,
) -> ApiResult<(StatusCode, Json<api::Account>)> {
    let a = st.services.create_account(&actor, NewAccount { name: req.name, account_type: req.account_type, program: req.program }).await?;
    Ok((StatusCode::CREATED, Json(account(&a, &actor, "Owner".into()))))
}

/// Reads an account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = api::Account), (status = 404, body = ErrorResponse)))]
async fn get_account(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<api::Account>> {
    let caller = st.services.get_account(&c.actor, c.account).await?;
    Ok(Json(account(&caller.account, &c.actor, caller.role_label())))
}

/// Every role and every account- and product-level permission, with the levels each offers.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Roles and permissions", body = Object)))]
async fn catalog(Authenticated(_): Authenticated) -> Json<Value> {
    let roles: Vec<Value> = access::Role::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.as_str(),
                "name": r.display_name(access::Program::Developer),
                "hardwareName": r.display_name(access::Program::Hardware),
                "seesAllProducts": access::roles_see_all_products(*r),
                "permissions": access::role_permissions(*r).iter().map(|(p, l)| json!({"permission": p.id, "level": l})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let permissions: Vec<Value> = access::all().map(|p| serde_json::to_value(p).unwrap_or(Value::Null)).collect();
    Json(json!({ "roles": roles, "permissions": permissions }))
}

/// The tenants associated with the account (Account settings → Tenants).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/tenants", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::AccountTenant>), (status = 404, body = ErrorResponse)))]
async fn list_tenants(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<Vec<api::AccountTenant>>> {
    let list = st.services.list_account_tenants(&c.actor, c.account).await?;
    Ok(Json(list.iter().map(|(t, at)| api::AccountTenant { tenant: convert::tenant(t), associated_at: at.to_rfc3339() }).collect()))
}

/// Creates a brand-new tenant with its global administrator and associates it (no email is sent).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/tenants", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::CreateTenantRequest,
    responses((status = 201, body = api::CreateTenantResponse), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_tenant(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::CreateTenantRequest>,
) -> ApiResult<(StatusCode, Json<api::CreateTenantResponse>)> {
    let input = NewTenant {
        display_name: req.display_name,
        domain_prefix: req.domain_prefix,
        contact_email: req.contact_email,
        directory_sync: req.directory_sync,
        global_admin: req.global_admin.map(|a| NewTenantAdmin { given_name: a.given_name, surname: a.surname, username: a.username, password: a.password }),
    };
    let (tenant, admin) = st.services.create_account_tenant(&c.actor, c.account, input).await?;
    Ok((StatusCode::CREATED, Json(api::CreateTenantResponse { tenant: convert::tenant(&tenant), global_admin: Some(convert::user(&admin)) })))
}

/// Associate an existing tenant, step 1: sign in with that tenant's credentials and review its
/// organization and domain.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/tenants/associations", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::StartAssociationRequest,
    responses(
        (status = 200, body = api::StartAssociationResponse),
        (status = 401, description = "The tenant's user name or password is wrong; or `mfa_required` / `invalid_mfa_code` for their second factor (`otp`)", body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 429, description = "`throttled`: too many failed sign-ins from this address (`throttle_sign_in_per_address`)", body = ErrorResponse,
            headers(("Retry-After" = u64, description = "Seconds until the throttling window ends"))),
    ))]
async fn start_association(
    State(st): State<AppState>,
    PeerAddress(source): PeerAddress,
    c: AccountActor,
    ApiJson(req): ApiJson<api::StartAssociationRequest>,
) -> ApiResult<Json<api::StartAssociationResponse>> {
    let otp = req.otp.map(Secret::new);
    let (token, tenant) = st
        .services
        .start_tenant_association(&c.actor, c.account, &req.tenant, &req.username, &Secret::new(req.password), otp.as_ref(), source.as_deref())
        .await?;
    Ok(Json(api::StartAssociationResponse {
        token: token.expose().to_owned(),
        tenant_id: tenant.id.as_uuid(),
        organization: tenant.display_name.to_string(),
        domain: tenant.domain.to_string(),
        expires_at: st.services.clock().now().plus_seconds(600).to_rfc3339(),
    }))
}

/// Associate an existing tenant, step 2: Confirm.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/tenants/associations/confirm", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::ConfirmAssociationRequest,
    responses((status = 201, body = api::Tenant), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn confirm_association(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::ConfirmAssociationRequest>,
) -> ApiResult<(StatusCode, Json<api::Tenant>)> {
    let t = st.services.confirm_tenant_association(&c.actor, c.account, &Secret::new(req.token)).await?;
    Ok((StatusCode::CREATED, Json(convert::tenant(&t))))
}

/// Removes a tenant from the account: its principals lose every permission; the directory is
/// untouched. Not the tenant you signed in through; the last one only by the owner.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/tenants/{tenantId}", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("tenantId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn remove_tenant(State(st): State<AppState>, c: AccountActor, Path((_, tid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    st.services.remove_account_tenant(&c.actor, c.account, tenant_id(&tid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The users of an associated tenant, to choose from for "Add existing users". Only for a tenant
/// you signed in through (the owner: any associated tenant); for another one the answer is 403
/// `wrong_tenant` saying where to sign in, never an empty list.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/tenants/{tenantId}/users", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("tenantId" = uuid::Uuid, Path),
        ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$", description = "Case-insensitive prefix of the userPrincipalName or display name"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1 to 200, default 50")),
    responses((status = 200, body = api::Page<api::User>), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "`tenant_not_associated`: the tenant is not associated with the account", body = ErrorResponse)))]
async fn list_tenant_users(State(st): State<AppState>, c: AccountActor, Path((_, tid)): Path<(String, String)>, ListParams(q): ListParams) -> ApiResult<Json<api::Page<api::User>>> {
    let page = st.services.list_account_tenant_users(&c.actor, c.account, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::user)))
}

/// The groups of an associated tenant, for "Add existing groups" (the same rules as its users).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/tenants/{tenantId}/groups", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("tenantId" = uuid::Uuid, Path), ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"), ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200)),
    responses((status = 200, body = api::Page<api::Group>), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "`tenant_not_associated`: the tenant is not associated with the account", body = ErrorResponse)))]
async fn list_tenant_groups(State(st): State<AppState>, c: AccountActor, Path((_, tid)): Path<(String, String)>, ListParams(q): ListParams) -> ApiResult<Json<api::Page<api::Group>>> {
    let page = st.services.list_account_tenant_groups(&c.actor, c.account, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::group)))
}

/// The applications of an associated tenant, for "Add existing applications" (the same rules as its users).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/tenants/{tenantId}/applications", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("tenantId" = uuid::Uuid, Path), ("search" = Option<String>, Query, max_length = 256, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"), ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200)),
    responses((status = 200, body = api::Page<api::Application>), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "`tenant_not_associated`: the tenant is not associated with the account", body = ErrorResponse)))]
async fn list_tenant_applications(State(st): State<AppState>, c: AccountActor, Path((_, tid)): Path<(String, String)>, ListParams(q): ListParams) -> ApiResult<Json<api::Page<api::Application>>> {
    let page = st.services.list_account_tenant_applications(&c.actor, c.account, tenant_id(&tid)?, &q).await?;
    Ok(Json(convert::page(page, convert::application)))
}

/// Users, groups and applications with access to the account, with their grants.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/members", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::Member>), (status = 403, body = ErrorResponse)))]
async fn list_members(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<Vec<api::Member>>> {
    let list = st.services.list_members(&c.actor, c.account).await?;
    Ok(Json(list.iter().map(member).collect()))
}

/// Adds existing users, groups or applications, all with the same grant; results per item.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::AddMembersRequest,
    responses((status = 200, body = api::AddMembersResponse), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn add_members(State(st): State<AppState>, c: AccountActor, ApiJson(req): ApiJson<api::AddMembersRequest>) -> ApiResult<Json<api::AddMembersResponse>> {
    let inputs: Vec<PrincipalInput> = req.principals.iter().map(principal_input).collect();
    let results = st.services.add_members(&c.actor, c.account, inputs, &grant_input(req.grant)).await?;
    let mut out = Vec::new();
    for (r, body) in results.into_iter().zip(req.principals) {
        out.push(match r.result {
            Ok(m) => api::AddMemberResult { input: body, status: "added".into(), member: Some(plain_member(&m)?), error: None },
            Err(e) => api::AddMemberResult {
                input: body,
                status: "failed".into(),
                member: None,
                error: Some(crate::error::error_body(e)),
            },
        });
    }
    Ok(Json(api::AddMembersResponse { results: out }))
}

/// Creates a user in the tenant you signed in through (global admin) and adds it. The
/// temporary password is shown once.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members/users", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::CreateMemberUserRequest,
    responses((status = 201, body = api::CreateMemberUserResponse), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_member_user(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::CreateMemberUserRequest>,
) -> ApiResult<(StatusCode, Json<api::CreateMemberUserResponse>)> {
    let user = NewUser {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        given_name: req.given_name,
        surname: req.surname,
        global_admin: req.global_admin,
        recovery_email: req.recovery_email,
        ..NewUser::default()
    };
    let (m, created) = st.services.create_member_user(&c.actor, c.account, user, req.groups, &grant_input(req.grant)).await?;
    Ok((
        StatusCode::CREATED,
        Json(api::CreateMemberUserResponse {
            member: plain_member(&m)?,
            user: convert::user(&created.user),
            temporary_password: created.temporary_password.map(|p| p.expose().to_owned()).unwrap_or_default(),
        }),
    ))
}

/// Creates a group in the tenant you signed in through (global admin), with members, and adds it.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members/groups", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::CreateMemberGroupRequest,
    responses((status = 201, body = api::Member), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_member_group(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::CreateMemberGroupRequest>,
) -> ApiResult<(StatusCode, Json<api::Member>)> {
    let g = atrium_core::services::NewGroup { display_name: req.display_name, description: req.description, members: req.members };
    let (m, _) = st.services.create_member_group(&c.actor, c.account, g, &grant_input(req.grant)).await?;
    Ok((StatusCode::CREATED, Json(plain_member(&m)?)))
}

/// Registers an application in the tenant you signed in through (global admin) and adds it, in
/// one transaction: a refused grant leaves no registration behind.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members/applications", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::CreateMemberApplicationRequest,
    responses((status = 201, body = api::CreateMemberApplicationResponse), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_member_application(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::CreateMemberApplicationRequest>,
) -> ApiResult<(StatusCode, Json<api::CreateMemberApplicationResponse>)> {
    let input = atrium_core::services::NewApplication { display_name: req.display_name, reply_urls: req.reply_urls, app_id_uri: req.app_id_uri, public_client: false };
    let (m, app) = st.services.create_member_application(&c.actor, c.account, input, &grant_input(req.grant)).await?;
    Ok((StatusCode::CREATED, Json(api::CreateMemberApplicationResponse { member: plain_member(&m)?, application: convert::application(&app) })))
}

/// Changes a member's roles and permissions (account access only).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/members/{type}/{principalId}", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("type" = super::contract::MemberType, Path, description = "user, group or application"), ("principalId" = uuid::Uuid, Path)),
    request_body = api::UpdateMemberRequest,
    responses((status = 200, body = api::Member), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn update_member(
    State(st): State<AppState>,
    c: AccountActor,
    Path((_, kind, pid)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<api::UpdateMemberRequest>,
) -> ApiResult<Json<api::Member>> {
    let m = st.services.update_member_grant(&c.actor, c.account, &kind, &pid, &grant_input(req.grant)).await?;
    Ok(Json(plain_member(&m)?))
}

/// Removes a member from the account; the directory object remains.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/members/{type}/{principalId}", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("type" = super::contract::MemberType, Path), ("principalId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn remove_member(State(st): State<AppState>, c: AccountActor, Path((_, kind, pid)): Path<(String, String, String)>) -> ApiResult<StatusCode> {
    st.services.remove_member(&c.actor, c.account, &kind, &pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Delete from organization": removes the member and deletes the user from the directory.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members/user/{principalId}/delete-from-organization", tag = "accounts",
    security(("bearer" = [])), params(("accountId" = uuid::Uuid, Path), ("principalId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn delete_from_organization(State(st): State<AppState>, c: AccountActor, Path((_, pid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    st.services.delete_member_from_organization(&c.actor, c.account, &pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets a member's password (global admin). The temporary password is shown once.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/members/user/{principalId}/reset-password", tag = "accounts",
    security(("bearer" = [])), params(("accountId" = uuid::Uuid, Path), ("principalId" = uuid::Uuid, Path)),
    responses((status = 200, body = api::TemporaryPassword), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn reset_password(State(st): State<AppState>, c: AccountActor, Path((_, pid)): Path<(String, String)>) -> ApiResult<Json<api::TemporaryPassword>> {
    let p = st.services.reset_member_password(&c.actor, c.account, &pid).await?;
    Ok(Json(api::TemporaryPassword { temporary_password: p.expose().to_owned() }))
}

/// A member's history of the last 30 days (the owner only).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/members/{type}/{principalId}/activity", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("type" = super::contract::MemberType, Path), ("principalId" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<api::ActivityEntry>), (status = 403, body = ErrorResponse)))]
async fn member_activity(
    State(st): State<AppState>,
    c: AccountActor,
    Path((_, kind, pid)): Path<(String, String, String)>,
) -> ApiResult<Json<Vec<api::ActivityEntry>>> {
    let rows = st.services.member_activity(&c.actor, c.account, &kind, &pid).await?;
    Ok(Json(rows.iter().map(|a| api::ActivityEntry { at: a.at.to_rfc3339(), method: a.method.clone(), route: a.route.clone() }).collect()))
}

/// The account's products (targets of product-level permissions).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/products", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::Product>), (status = 404, body = ErrorResponse)))]
async fn list_products(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<Vec<api::Product>>> {
    let list = st.services.list_products(&c.actor, c.account).await?;
    Ok(Json(list.iter().map(|p| api::Product { id: p.id.as_uuid(), name: p.name.to_string(), created_at: p.created_at.to_rfc3339() }).collect()))
}

/// Creates a product (needs "New apps" read/write).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/products", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::CreateProductRequest,
    responses((status = 201, body = api::Product), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn create_product(
    State(st): State<AppState>,
    c: AccountActor,
    ApiJson(req): ApiJson<api::CreateProductRequest>,
) -> ApiResult<(StatusCode, Json<api::Product>)> {
    let p = st.services.create_product(&c.actor, c.account, &req.name).await?;
    Ok((StatusCode::CREATED, Json(api::Product { id: p.id.as_uuid(), name: p.name.to_string(), created_at: p.created_at.to_rfc3339() })))
}

/// Deletes a product.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/products/{productId}", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("productId" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn delete_product(State(st): State<AppState>, c: AccountActor, Path((_, pid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    st.services.delete_product(&c.actor, c.account, ProductId::parse(&pid, "productId")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn one_check(st: &AppState, c: &AccountActor, req: &api::AccessCheckRequest) -> Result<Value, Error> {
    let principal = req.principal.as_ref().map(principal_input);
    let d = st.services.check_access(&c.actor, c.account, principal.as_ref(), req.token.as_deref(), &req.permission, req.product.as_deref()).await?;
    serde_json::to_value(&d).map_err(Error::internal)
}

/// `{allowed, level, because:[the grants that decided]}` for a principal (default: you).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/access/check", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::AccessCheckRequest,
    responses((status = 200, description = "The decision", body = Object), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "`tenant_not_associated`: the principal's tenant is not associated with the account", body = ErrorResponse)))]
async fn check_access(State(st): State<AppState>, c: AccountActor, ApiJson(req): ApiJson<api::AccessCheckRequest>) -> ApiResult<Json<Value>> {
    Ok(Json(one_check(&st, &c, &req).await?))
}

/// Several checks at once; each result is a decision or an error.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/access/check-batch", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), request_body = api::AccessCheckBatchRequest,
    responses((status = 200, description = "One result per check", body = Object), (status = 400, body = ErrorResponse)))]
async fn check_access_batch(State(st): State<AppState>, c: AccountActor, ApiJson(req): ApiJson<api::AccessCheckBatchRequest>) -> ApiResult<Json<Value>> {
    if req.checks.len() > 100 {
        return Err(Error::new(ErrorCode::InvalidRequest).with_message("At most 100 checks at once.").with_target("checks").into());
    }
    // Whether the caller may use the account at all is one answer for the whole batch.
    st.services.account_caller(&c.actor, c.account).await?;
    let mut results = Vec::with_capacity(req.checks.len());
    for check in &req.checks {
        results.push(match one_check(&st, &c, check).await {
            Ok(d) => d,
            Err(e) => json!({"error": {"code": e.code.as_str(), "message": e.message, "target": e.target}}),
        });
    }
    Ok(Json(json!({ "results": results })))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditQuery {
    actor: Option<String>,
    target: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<u32>,
}

/// The account's audit log, newest first; filter by actor (user id), target id and time
/// (`from`/`to` in epoch milliseconds).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/audit", tag = "accounts", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path), ("actor" = Option<uuid::Uuid>, Query, description = "The acting user's id"),
           ("target" = Option<String>, Query, description = "The target's id"),
           ("from" = Option<i64>, Query, description = "Epoch milliseconds, inclusive"), ("to" = Option<i64>, Query, description = "Epoch milliseconds"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 100")),
    responses((status = 200, body = Vec<api::AuditEvent>), (status = 403, body = ErrorResponse)))]
async fn account_audit(State(st): State<AppState>, c: AccountActor, super::ApiQuery(q): super::ApiQuery<AuditQuery>) -> ApiResult<Json<Vec<api::AuditEvent>>> {
    let filter = AuditFilter {
        actor_user_id: q.actor.as_deref().map(|a| UserId::parse(a, "actor")).transpose()?,
        target_id: q.target,
        from: q.from.map(Timestamp::from_millis),
        to: q.to.map(Timestamp::from_millis),
        limit: q.limit.unwrap_or(100),
        ..AuditFilter::default()
    };
    let events = st.services.list_account_audit(&c.actor, c.account, filter).await?;
    Ok(Json(events.iter().map(convert::audit).collect()))
}
