//! `GET /metadata/endpoints`: the cloud metadata that `az cloud register
//! --endpoint-resource-manager <this server>` turns into a cloud.

use crate::state::AppState;
use atrium_core::services::identity::ARM_RESOURCES;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

/// One cloud, as a JSON object for every `api-version` (also none): Azure answers
/// `2022-09-01` with a list of clouds, but the CLI reads that version's reply as one object
/// (§8: a list fails inside it with `TypeError`), so an object is what works.
///
/// This server is the login endpoint, the resource manager and Microsoft Graph (whose resource
/// id is our base URL, so the CLI asks for Graph tokens with that audience). The ARM token
/// audience comes first in `audiences`: the CLI asks for `<audiences[0]>/.default`. Services
/// Atrium does not run (storage, Key Vault, SQL, batch, media, gallery) are left out, so the CLI
/// says they are not set rather than calling Microsoft.
pub(super) async fn endpoints(State(st): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = crate::identity::base_url(&st, &headers);
    Json(json!({
        "name": "Atrium",
        "portal": format!("{base}/"),
        "authentication": {
            "loginEndpoint": base,
            "audiences": ARM_RESOURCES,
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "resourceManager": format!("{base}/"),
        "microsoftGraphResourceId": format!("{base}/"),
        "suffixes": {},
    }))
}
