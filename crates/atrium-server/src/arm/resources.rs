//! `GET /tenants`, `GET /subscriptions`, `GET /subscriptions/{id}` in ARM's shapes (as of
//! api-version 2022-12-01, which the Azure CLI 2.91 and azure-mgmt-resource 24 use).

use super::{ArmError, arm_caller, is_arm_request};
use crate::state::AppState;
use atrium_core::model::{SubscriptionState, Tenant};
use atrium_core::services::arm::ArmSubscription;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn tenant(t: &Tenant) -> Value {
    json!({
        "id": format!("/tenants/{}", t.id),
        "tenantId": t.id.to_string(),
        "tenantCategory": "Home",
        "displayName": t.display_name.as_str(),
        "domains": [t.domain.as_str()],
        "defaultDomain": t.domain.as_str(),
        "tenantType": "AAD",
    })
}

fn subscription(s: &ArmSubscription) -> Value {
    let sub = &s.subscription;
    json!({
        "id": format!("/subscriptions/{}", sub.id),
        "subscriptionId": sub.id.to_string(),
        "tenantId": s.directory.id.to_string(),
        "displayName": sub.name.as_str(),
        "state": match sub.state { SubscriptionState::Active => "Enabled", SubscriptionState::Disabled => "Disabled" },
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        // Access comes from seed 003's co-administrators, Azure's classic (legacy) model.
        "authorizationSource": "Legacy",
        "managedByTenants": [],
        "tags": {},
    })
}

/// ARM's list envelope.
fn list(value: Vec<Value>) -> Json<Value> {
    let n = value.len();
    Json(json!({ "value": value, "count": { "type": "Total", "value": n } }))
}

/// `GET /tenants?api-version=…`: the token's tenant.
pub(super) async fn tenants(State(st): State<AppState>, req: Request) -> Result<Json<Value>, ArmError> {
    let caller = arm_caller(&st, req.headers(), req.uri().query()).await?;
    Ok(list(st.services.arm_tenants(&caller).iter().map(tenant).collect()))
}

/// `GET /subscriptions`: ARM's list, or the console's page for a browser.
pub(super) async fn subscriptions_or_console(State(st): State<AppState>, req: Request) -> Response {
    if !is_arm_request(&req) {
        return crate::console::subscriptions::list.call(req, st).await;
    }
    let caller = match arm_caller(&st, req.headers(), req.uri().query()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match st.services.arm_subscriptions(&caller).await {
        Ok(subs) => list(subs.iter().map(subscription).collect()).into_response(),
        Err(e) => ArmError::from(e).into_response(),
    }
}

/// `GET /subscriptions/{id}`: ARM's subscription, or the console's page for a browser.
pub(super) async fn subscription_or_console(State(st): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    if !is_arm_request(&req) {
        return crate::console::subscriptions::show.call(req, st).await;
    }
    let caller = match arm_caller(&st, req.headers(), req.uri().query()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match st.services.arm_subscription(&caller, &id).await {
        Ok(s) => Json(subscription(&s)).into_response(),
        Err(e) => ArmError::from(e).into_response(),
    }
}
