//! Subscriptions (seed 003): "Use existing directory", the directory's consent, "Change the
//! associated directory", co-administrators, and the account's Web storefront deployment view.
//! Every handler calls one service; the services decide who may do what.

use super::accounts::AccountActor;
use super::{convert, user_id};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Authenticated};
use crate::state::AppState;
use atrium_api_types as api;
use atrium_api_types::ErrorResponse;
use atrium_core::ids::SubscriptionId;
use atrium_core::model::{AppCoadmin, Application, Coadmin, SubscriptionState, Tenant, User};
use atrium_core::secret::Secret;
use atrium_core::services::{DirectoryChange, DirectoryConsent, SubscriptionView};
use atrium_core::{Error, ErrorCode};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(get_subscription))
        .routes(routes!(request_directory))
        .routes(routes!(consent_directory))
        .routes(routes!(review_directory_request))
        .routes(routes!(preview_directory_change, change_directory))
        .routes(routes!(list_coadmins, add_coadmin))
        .routes(routes!(remove_coadmin))
        .routes(routes!(list_app_coadmins, add_app_coadmin))
        .routes(routes!(remove_app_coadmin))
        .routes(routes!(disable_subscription))
        .routes(routes!(enable_subscription))
        .routes(routes!(subscription_audit))
        .routes(routes!(deployment_subscriptions))
}

fn subscription_id(s: &str) -> Result<SubscriptionId, Error> {
    SubscriptionId::parse(s, "subscriptionId")
}

fn directory(t: &Tenant) -> api::DirectoryRef {
    api::DirectoryRef { id: t.id.as_uuid(), domain: t.domain.to_string(), display_name: t.display_name.to_string() }
}

fn subscription(v: &SubscriptionView) -> api::Subscription {
    let s = &v.subscription;
    api::Subscription {
        id: s.id.as_uuid(),
        name: s.name.to_string(),
        state: s.state.as_str().to_owned(),
        owner_user_id: s.owner_user_id.as_uuid(),
        directory: directory(&v.directory),
        role: v.role.as_str().to_owned(),
        created_at: s.created_at.to_rfc3339(),
        updated_at: s.updated_at.to_rfc3339(),
    }
}

fn coadmin(u: &User, c: Option<&Coadmin>) -> api::Coadministrator {
    api::Coadministrator {
        user_id: u.id.as_uuid(),
        tenant_id: u.tenant_id.as_uuid(),
        user_principal_name: u.upn.to_string(),
        display_name: u.display_name.to_string(),
        mail: u.mail.as_ref().map(ToString::to_string),
        added_at: c.map(|c| c.added_at.to_rfc3339()),
    }
}

fn change(c: &DirectoryChange, changed: bool) -> api::DirectoryChange {
    let directory_now = if changed { &c.to } else { &c.from };
    let view = SubscriptionView { subscription: c.subscription.clone(), directory: directory_now.clone(), role: atrium_core::services::SubscriptionRole::Owner };
    api::DirectoryChange {
        subscription: subscription(&view),
        from: directory(&c.from),
        to: directory(&c.to),
        coadministrators_losing_access: c.losing_access.iter().map(|u| coadmin(u, None)).collect(),
        consented_by: c.consented_by.map(|u| u.as_uuid()),
        consented_at: c.consented_at.map(|t| t.to_rfc3339()),
        changed,
    }
}

/// The subscriptions you own or co-administer, in any state.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, body = Vec<api::Subscription>), (status = 401, body = ErrorResponse)))]
async fn list_subscriptions(State(st): State<AppState>, Authenticated(actor): Authenticated) -> ApiResult<Json<Vec<api::Subscription>>> {
    let list = st.services.list_subscriptions(&actor).await?;
    Ok(Json(list.iter().map(subscription).collect()))
}

/// Creates a subscription owned by the caller (a personal account). It trusts the owner's own
/// directory until another one is mapped.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "subscriptions", security(("bearer" = [])), request_body = api::CreateSubscriptionRequest,
    responses((status = 201, body = api::Subscription), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
async fn create_subscription(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<api::CreateSubscriptionRequest>,
) -> ApiResult<(StatusCode, Json<api::Subscription>)> {
    let v = st.services.create_subscription(&actor, &req.name).await?;
    Ok((StatusCode::CREATED, Json(subscription(&v))))
}

/// Reads a subscription (owner or co-administrator).
#[utoipa::path(get, path = "/api/v1/subscriptions/{subscriptionId}", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = api::Subscription), (status = 404, body = ErrorResponse)))]
async fn get_subscription(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<api::Subscription>> {
    let v = st.services.get_subscription(&actor, subscription_id(&id)?).await?;
    Ok(Json(subscription(&v)))
}

/// Step 1, "Use existing directory" (the owner): returns a single-use consent code for a global
/// administrator of that directory.
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/directory-requests", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), request_body = api::DirectoryRequestBody,
    responses((status = 201, body = api::DirectoryRequestCreated), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn request_directory(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::DirectoryRequestBody>,
) -> ApiResult<(StatusCode, Json<api::DirectoryRequestCreated>)> {
    let r = st.services.request_directory(&actor, subscription_id(&id)?, &req.tenant).await?;
    Ok((
        StatusCode::CREATED,
        Json(api::DirectoryRequestCreated {
            id: r.request.id.as_uuid(),
            subscription_id: r.request.subscription_id.as_uuid(),
            consent_code: r.code.expose().to_owned(),
            directory: directory(&r.directory),
            expires_at: r.request.expires_at.to_rfc3339(),
        }),
    ))
}

/// Step 2, "Continue": a global administrator of the requested directory, signed in through
/// it, lets the subscription use it.
#[utoipa::path(post, path = "/api/v1/directory-consents", tag = "subscriptions", security(("bearer" = [])), request_body = api::DirectoryConsentRequest,
    responses((status = 200, body = api::DirectoryConsentResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn consent_directory(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<api::DirectoryConsentRequest>,
) -> ApiResult<Json<api::DirectoryConsentResponse>> {
    let c = st.services.consent_directory(&actor, &Secret::new(req.code)).await?;
    Ok(Json(consent(&c)))
}

/// Step 2's dialog: what the code asks the directory to agree to (changes nothing).
#[utoipa::path(post, path = "/api/v1/directory-consents/review", tag = "subscriptions", security(("bearer" = [])), request_body = api::DirectoryConsentRequest,
    responses((status = 200, body = api::DirectoryConsentResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn review_directory_request(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<api::DirectoryConsentRequest>,
) -> ApiResult<Json<api::DirectoryConsentResponse>> {
    let c = st.services.review_directory_request(&actor, &Secret::new(req.code)).await?;
    Ok(Json(consent(&c)))
}

fn consent(c: &DirectoryConsent) -> api::DirectoryConsentResponse {
    api::DirectoryConsentResponse {
        request_id: c.request.id.as_uuid(),
        subscription_id: c.subscription.id.as_uuid(),
        subscription_name: c.subscription.name.to_string(),
        owner_display_name: c.owner_name.clone(),
        directory: directory(&c.directory),
        expires_at: c.request.expires_at.to_rfc3339(),
        consented_at: c.request.consented_at.map(|t| t.to_rfc3339()),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryChangeQuery {
    tenant_id: Option<String>,
}

/// Step 3, "Change the associated directory": what confirming would change (the old
/// directory's co-administrators lose access).
#[utoipa::path(get, path = "/api/v1/subscriptions/{subscriptionId}/directory-change", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path), ("tenantId" = String, Query, pattern = r"\S", description = "The directory to map: its GUID, or the domain of a directory asked for")),
    responses((status = 200, body = api::DirectoryChange), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn preview_directory_change(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    super::ApiQuery(q): super::ApiQuery<DirectoryChangeQuery>,
) -> ApiResult<Json<api::DirectoryChange>> {
    let id = subscription_id(&id)?;
    let tenant = q.tenant_id.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        Error::new(ErrorCode::MissingField).with_message("The query parameter 'tenantId' is required.").with_target("tenantId")
    })?;
    let to = st.services.directory_for_change(&actor, id, &tenant).await?;
    let c = st.services.preview_directory_change(&actor, id, to).await?;
    Ok(Json(change(&c, false)))
}

/// Step 3, "Confirm directory mapping": the subscription trusts the new directory.
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/directory-change", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), request_body = api::ChangeDirectoryRequest,
    responses((status = 200, body = api::DirectoryChange), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn change_directory(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::ChangeDirectoryRequest>,
) -> ApiResult<Json<api::DirectoryChange>> {
    let id = subscription_id(&id)?;
    let to = st.services.directory_for_change(&actor, id, &req.tenant_id).await?;
    let c = st.services.change_directory(&actor, id, to).await?;
    Ok(Json(change(&c, true)))
}

/// The Administrators tab: the co-administrators (owner and co-administrators may read it).
#[utoipa::path(get, path = "/api/v1/subscriptions/{subscriptionId}/coadministrators", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::Coadministrator>), (status = 404, body = ErrorResponse)))]
async fn list_coadmins(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Vec<api::Coadministrator>>> {
    let list = st.services.list_coadmins(&actor, subscription_id(&id)?).await?;
    Ok(Json(list.iter().map(|(c, u)| coadmin(u, Some(c))).collect()))
}

/// Step 4: adds a co-administrator by email; it must be a user of the subscription's directory.
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/coadministrators", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), request_body = api::AddCoadministratorRequest,
    responses((status = 201, body = api::Coadministrator), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn add_coadmin(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::AddCoadministratorRequest>,
) -> ApiResult<(StatusCode, Json<api::Coadministrator>)> {
    let (c, u) = st.services.add_coadmin(&actor, subscription_id(&id)?, &req.email).await?;
    Ok((StatusCode::CREATED, Json(coadmin(&u, Some(&c)))))
}

/// Removes a co-administrator (the owner).
#[utoipa::path(delete, path = "/api/v1/subscriptions/{subscriptionId}/coadministrators/{userId}", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path)), responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn remove_coadmin(State(st): State<AppState>, Authenticated(actor): Authenticated, Path((id, uid)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = subscription_id(&id)?;
    st.services.remove_coadmin(&actor, id, user_id(&uid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn app_coadmin(c: &AppCoadmin, a: &Application) -> api::AppCoadministrator {
    api::AppCoadministrator {
        app_id: a.client_id.as_uuid(),
        application_id: a.id.as_uuid(),
        service_principal_id: a.service_principal_id.as_uuid(),
        tenant_id: a.tenant_id.as_uuid(),
        display_name: a.display_name.to_string(),
        added_at: c.added_at.to_rfc3339(),
    }
}

/// The application co-administrators (owner and co-administrators may read them).
#[utoipa::path(get, path = "/api/v1/subscriptions/{subscriptionId}/app-coadministrators", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::AppCoadministrator>), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn list_app_coadmins(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Vec<api::AppCoadministrator>>> {
    let list = st.services.list_app_coadmins(&actor, subscription_id(&id)?).await?;
    Ok(Json(list.iter().map(|(c, a)| app_coadmin(c, a)).collect()))
}

/// Adds an application of the subscription's directory as co-administrator, by appId (the
/// owner): its service principal then sees the subscription through ARM.
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/app-coadministrators", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), request_body = api::AddAppCoadministratorRequest,
    responses((status = 201, body = api::AppCoadministrator), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
async fn add_app_coadmin(
    State(st): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<api::AddAppCoadministratorRequest>,
) -> ApiResult<(StatusCode, Json<api::AppCoadministrator>)> {
    let (c, a) = st.services.add_app_coadmin(&actor, subscription_id(&id)?, &req.app_id).await?;
    Ok((StatusCode::CREATED, Json(app_coadmin(&c, &a))))
}

/// Removes an application co-administrator (the owner).
#[utoipa::path(delete, path = "/api/v1/subscriptions/{subscriptionId}/app-coadministrators/{appId}", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path), ("appId" = uuid::Uuid, Path)), responses((status = 204), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn remove_app_coadmin(State(st): State<AppState>, Authenticated(actor): Authenticated, Path((id, app_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    st.services.remove_app_coadmin(&actor, subscription_id(&id)?, &app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables the subscription (the owner): it leaves the deployment view and refuses changes.
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/disable", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = api::Subscription), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn disable_subscription(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<api::Subscription>> {
    let v = st.services.set_subscription_state(&actor, subscription_id(&id)?, SubscriptionState::Disabled).await?;
    Ok(Json(subscription(&v)))
}

/// Enables the subscription again (the owner).
#[utoipa::path(post, path = "/api/v1/subscriptions/{subscriptionId}/enable", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = api::Subscription), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn enable_subscription(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<api::Subscription>> {
    let v = st.services.set_subscription_state(&actor, subscription_id(&id)?, SubscriptionState::Active).await?;
    Ok(Json(subscription(&v)))
}

/// The subscription's audit events, newest first (the owner).
#[utoipa::path(get, path = "/api/v1/subscriptions/{subscriptionId}/audit", tag = "subscriptions", security(("bearer" = [])),
    params(("subscriptionId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::AuditEvent>), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
async fn subscription_audit(State(st): State<AppState>, Authenticated(actor): Authenticated, Path(id): Path<String>) -> ApiResult<Json<Vec<api::AuditEvent>>> {
    let events = st.services.list_subscription_audit(&actor, subscription_id(&id)?).await?;
    Ok(Json(events.iter().map(convert::audit).collect()))
}

/// Step 5, the account's "Web storefront deployment" view: the Subscription drop-down. Your
/// active subscriptions (owner or co-administrator) whose directory is associated with the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/deployment/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    params(("accountId" = uuid::Uuid, Path)), responses((status = 200, body = Vec<api::Subscription>), (status = 404, body = ErrorResponse)))]
async fn deployment_subscriptions(State(st): State<AppState>, c: AccountActor) -> ApiResult<Json<Vec<api::Subscription>>> {
    let list = st.services.deployment_subscriptions(&c.actor, c.account).await?;
    Ok(Json(list.iter().map(subscription).collect()))
}
