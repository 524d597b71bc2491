//! REST API `/api/v1`. Each area exports its routes; the OpenAPI document is generated from the
//! same handler annotations, so routes and documentation cannot drift apart.

mod accounts;
mod applications;
mod audit;
pub(crate) mod auth;
mod contract;
mod convert;
mod docs;
mod groups;
mod invitations;
mod mail;
pub(crate) mod mfa;
pub(crate) mod passkeys;
pub(crate) mod provisioning;
pub(crate) mod sign_ins;
mod subscriptions;
mod tenants;
mod users;

use crate::state::AppState;
use atrium_core::ids::{GroupId, TenantId, UserId};
use atrium_core::Error;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Atrium API", description = "Directory (tenants, users, groups, applications) and sign-in. Errors are `{\"error\":{\"code\",\"message\",\"target\"}}`."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, sign-out and the signed-in user"),
        (name = "tenants", description = "Directory tenants"),
        (name = "users", description = "Users of a tenant"),
        (name = "groups", description = "Groups of a tenant and their members"),
        (name = "provisioning", description = "Provisioning tokens of a tenant's SCIM client (`/scim/v2`); the first one makes the tenant directory-synced"),
        (name = "applications", description = "App registrations and their client-secret keys"),
        (name = "accounts", description = "Partner accounts: tenants, members with roles and permissions, products, access checks"),
        (name = "invitations", description = "Guest invitations (\"Invite outside users\") of an account"),
        (name = "mail", description = "The mail outbox and each mail's delivery status"),
        (name = "subscriptions", description = "Subscriptions (seed 003): directory, co-administrators, and the account's Web storefront deployment view"),
        (name = "audit", description = "The audit log and the sign-in logs"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The API's routes and its OpenAPI document.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(tenants::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(provisioning::routes())
        .merge(applications::routes())
        .merge(accounts::routes())
        .merge(invitations::routes())
        .merge(mail::routes())
        .merge(subscriptions::routes())
        .merge(audit::routes())
        .merge(mfa::routes())
        .merge(passkeys::routes())
        .merge(sign_ins::routes())
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    contract::document_errors(&mut doc);
    let json = doc.to_json().unwrap_or_else(|_| "{}".to_owned());
    (router.merge(docs::routes(json)), doc)
}

/// A query string in the API's error shape: a value of the wrong type (`limit=abc`) or an
/// unknown parameter is a 400 `invalid_request` naming it, never axum's plain-text rejection.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::try_from_uri(&parts.uri).map(|q| ApiQuery(q.0)).map_err(|e| {
            let msg = e.body_text();
            let mut err = Error::new(atrium_core::ErrorCode::InvalidRequest).with_message(format!("Invalid query string: {msg}"));
            if let Some(field) = msg.split('`').nth(1) {
                err = err.with_target(field);
            }
            err.into()
        })
    }
}

fn tenant_id(s: &str) -> Result<TenantId, Error> {
    TenantId::parse(s, "tenantId")
}

fn user_id(s: &str) -> Result<UserId, Error> {
    UserId::parse(s, "userId")
}

fn group_id(s: &str) -> Result<GroupId, Error> {
    GroupId::parse(s, "groupId")
}
