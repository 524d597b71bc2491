//! Provisioning tokens of a tenant's SCIM client, through the REST API and the console: shown
//! once, listed without values, revoked at once, for the tenant's global administrator only.

use crate::accounts::{account_with_manager, add};
use crate::console::{Browser, csrf_of};
use crate::helpers::TestApp;
use atrium_core::ErrorCode;
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::{ProvisionGroup, ProvisionUser};
use reqwest::StatusCode;
use serde_json::json;

api_tests!(
    a_token_is_shown_once_and_turns_directory_sync_on,
    a_revoked_or_expired_token_no_longer_authenticates,
    only_the_tenants_global_admin_manages_tokens,
    token_input_is_validated_naming_the_field,
    provisioned_users_and_groups_show_their_source,
    console_directory_sync_page,
);

fn tokens(tid: &str) -> String {
    format!("/api/v1/tenants/{tid}/provisioning/tokens")
}

async fn a_token_is_shown_once_and_turns_directory_sync_on(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], false);

    let r = app.post(&tokens(&tid), &admin, json!({"name": "Entra provisioning", "validDays": 365})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store", "the value must not be cached");
    let value = r.body["token"].as_str().unwrap().to_owned();
    assert!(value.starts_with("atscim_") && value.len() > 40, "{value}");
    assert_eq!(r.body["name"], "Entra provisioning");
    assert_eq!(r.body["scimUrl"], format!("{}/scim/v2", app.base));
    assert!(r.body["expiresAt"].as_str().unwrap().starts_with("2026-11-24T16:00:00"), "a year after T0: {}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let p = app.services.authenticate_provisioner(&Secret::new(value.clone())).await.unwrap();
    assert_eq!(p.tenant_id.to_string(), tid);
    assert_eq!(p.name, "Entra provisioning");

    // Listed with its dates, never with its value.
    let list = app.get(&tokens(&tid), &admin).await;
    let items = list.ok()["value"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["id"].as_str().unwrap(), &items[0]["name"], &items[0]["expired"]), (id.as_str(), &json!("Entra provisioning"), &json!(false)));
    assert_eq!(list.body["scimUrl"], format!("{}/scim/v2", app.base));
    assert!(items[0].get("token").is_none() && !list.body.to_string().contains(&value), "{}", list.body);
    // Without validDays a token lasts a year too.
    let r = app.post(&tokens(&tid), &admin, json!({"name": "Okta"})).await;
    assert!(r.ok()["expiresAt"].as_str().unwrap().starts_with("2026-11-24"), "{}", r.body);

    // The tenant is now directory-synced (R5): its users and groups arrive through SCIM.
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], true);
    app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "ann"})).await.assert_error(409, "directory_sync_enabled", None);
    app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "G"})).await.assert_error(409, "directory_sync_enabled", None);
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "provisioning.token.create").count(), 2, "{actions:?}");
    // The audit log names the token, not its value.
    let audit = app.get(&format!("/api/v1/audit?tenantId={tid}"), &admin).await;
    assert!(!audit.ok().to_string().contains(&value));

    // The operations are in the OpenAPI document the API serves.
    let doc = app.request(reqwest::Method::GET, "/api/v1/openapi.json", None, None).await;
    let paths = &doc.ok()["paths"];
    let list = &paths["/api/v1/tenants/{tenantId}/provisioning/tokens"];
    assert!(list["get"].is_object() && list["post"]["responses"]["201"].is_object(), "{list}");
    assert!(paths["/api/v1/tenants/{tenantId}/provisioning/tokens/{tokenId}"]["delete"]["responses"]["204"].is_object());
    let schemas = &doc.body["components"]["schemas"];
    assert!(schemas["CreatedProvisioningToken"]["properties"]["scimUrl"].is_object() && schemas["User"]["properties"]["source"].is_object());
    assert_eq!(schemas["CreateProvisioningTokenRequest"]["properties"]["validDays"]["maximum"], 730);
}

async fn a_revoked_or_expired_token_no_longer_authenticates(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let created = |name: &'static str, days: i64| {
        let (app, admin, tid) = (&app, admin.clone(), tid.clone());
        async move {
            let r = app.post(&tokens(&tid), &admin, json!({"name": name, "validDays": days})).await;
            let b = r.ok().clone();
            (b["id"].as_str().unwrap().to_owned(), Secret::new(b["token"].as_str().unwrap()))
        }
    };
    let (old_id, old) = created("Old connector", 30).await;
    let (_, new) = created("New connector", 30).await;
    app.services.authenticate_provisioner(&old).await.unwrap();

    assert_eq!(app.delete(&format!("{}/{old_id}", tokens(&tid)), &admin).await.status, 204);
    let refused = app.services.authenticate_provisioner(&old).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unauthenticated);
    app.services.authenticate_provisioner(&new).await.expect("the other token still works");
    let list = app.get(&tokens(&tid), &admin).await;
    let names: Vec<&str> = list.ok()["value"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["New connector"]);
    app.delete(&format!("{}/{old_id}", tokens(&tid)), &admin).await.assert_error(404, "provisioning_token_not_found", Some("tokenId"));
    app.delete(&format!("{}/not-a-guid", tokens(&tid)), &admin).await.assert_error(400, "invalid_id", Some("tokenId"));
    // Revoking does not hand the directory back: the tenant stays directory-synced.
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], true);
    assert!(app.audit_actions(&admin, &tid).await.iter().any(|a| a == "provisioning.token.revoke"));

    // A token stops working when it expires, and the list says so.
    app.clock.advance_seconds(30 * 86_400);
    assert_eq!(app.services.authenticate_provisioner(&new).await.unwrap_err().code, ErrorCode::Unauthenticated);
    let admin = app.token("contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    assert_eq!(app.get(&tokens(&tid), &admin).await.ok()["value"][0]["expired"], true);
}

async fn only_the_tenants_global_admin_manages_tokens(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "dev").await;
    let dev = app.token("contoso.onatrium.local", "dev", "Us3r-Passw0rd!").await;
    let (_, other_admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let id = app.post(&tokens(&tid), &admin, json!({"name": "Entra"})).await.ok()["id"].as_str().unwrap().to_owned();
    let one = format!("{}/{id}", tokens(&tid));

    // A user of the tenant who is not its global administrator.
    app.post(&tokens(&tid), &dev, json!({"name": "Mine"})).await.assert_error(403, "forbidden", None);
    app.get(&tokens(&tid), &dev).await.assert_error(403, "forbidden", None);
    app.delete(&one, &dev).await.assert_error(403, "forbidden", None);
    // Another tenant's global administrator is not told the tenant exists.
    app.post(&tokens(&tid), &other_admin, json!({"name": "Mine"})).await.assert_error(404, "tenant_not_found", None);
    app.get(&tokens(&tid), &other_admin).await.assert_error(404, "tenant_not_found", None);
    app.delete(&one, &other_admin).await.assert_error(404, "tenant_not_found", None);
    // Signed out.
    assert_eq!(app.request(reqwest::Method::GET, &tokens(&tid), None, None).await.status, 401);
    assert_eq!(app.request(reqwest::Method::POST, &tokens(&tid), None, Some(json!({"name": "x"}))).await.status, 401);
    assert_eq!(app.get(&tokens(&tid), &admin).await.ok()["value"].as_array().unwrap().len(), 1, "nothing was created or revoked");

    // The instance administrator administers every tenant, but the personal-accounts tenant
    // holds people's own accounts: no source directory provisions it.
    app.post(&tokens(&tid), &owner, json!({"name": "By the operator"})).await.ok();
    let personal = "9188040d-6c67-4c5b-b112-36a304b66dad";
    app.post(&tokens(personal), &owner, json!({"name": "Nope"})).await.assert_error(409, "protected_object", None);
    assert_eq!(app.get(&format!("/api/v1/tenants/{personal}"), &owner).await.ok()["directorySync"], false);
}

async fn token_input_is_validated_naming_the_field(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let path = tokens(&tid);
    let create = |body| app.post(&path, &admin, body);
    for days in [0_i64, 731, -1, 10_000_000_000] {
        create(json!({"name": "Entra", "validDays": days})).await.assert_error(400, "invalid_validity", Some("validDays"));
    }
    create(json!({"name": "Entra", "validDays": "a year"})).await.assert_error(400, "invalid_json", Some("validDays"));
    create(json!({"name": "  "})).await.assert_error(400, "invalid_name", Some("name"));
    create(json!({"name": "x".repeat(101)})).await.assert_error(400, "invalid_name", Some("name"));
    create(json!({"validDays": 30})).await.assert_error(400, "missing_field", Some("name"));
    create(json!({"name": "Entra", "scope": "all"})).await.assert_error(400, "unknown_field", Some("scope"));
    // A refused request changes nothing.
    assert_eq!(app.get(&tokens(&tid), &admin).await.ok()["value"].as_array().unwrap().len(), 0);
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], false);
    // The bounds themselves are fine.
    create(json!({"name": "Short", "validDays": 1})).await.ok();
    create(json!({"name": "Long", "validDays": 730})).await.ok();
}

async fn provisioned_users_and_groups_show_their_source(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let value = app.post(&tokens(&tid), &admin, json!({"name": "Entra"})).await.ok()["token"].as_str().unwrap().to_owned();
    let p = app.services.authenticate_provisioner(&Secret::new(value)).await.unwrap();
    let input = ProvisionUser {
        user_name: "Adele.Vance@contoso.com".into(),
        external_id: Some("00aa-11bb".into()),
        given_name: Some("Adele".into()),
        family_name: Some("Vance".into()),
        ..ProvisionUser::default()
    };
    let u = app.services.provision_user(&p, input).await.unwrap();
    let (g, _) = app
        .services
        .provision_group(&p, ProvisionGroup { display_name: "Engineering".into(), external_id: Some("eng-1".into()), members: Some(vec![u.id.to_string()]) })
        .await
        .unwrap();

    let r = app.get(&format!("/api/v1/tenants/{tid}/users/{}", u.id), &admin).await;
    let user = r.ok();
    assert_eq!(user["source"], "scim");
    assert_eq!(user["provisioning"], json!({"userName": "Adele.Vance@contoso.com", "externalId": "00aa-11bb"}));
    assert!(user["userPrincipalName"].as_str().unwrap().to_lowercase().ends_with("@contoso.onatrium.local"), "{user}");
    // The tenant's own users have no source.
    let users = app.get(&format!("/api/v1/tenants/{tid}/users"), &admin).await;
    let items = users.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let own = items.iter().find(|x| x["id"] != json!(u.id.to_string())).unwrap();
    assert!(own.get("source").is_none() && own.get("provisioning").is_none(), "{own}");
    assert!(items.iter().any(|x| x["source"] == "scim"));

    let group = app.get(&format!("/api/v1/tenants/{tid}/groups/{}", g.id), &admin).await;
    assert_eq!((&group.ok()["source"], &group.body["externalId"]), (&json!("scim"), &json!("eng-1")));
    let groups = app.get(&format!("/api/v1/tenants/{tid}/users/{}/groups", u.id), &admin).await;
    assert_eq!(groups.ok()[0]["source"], "scim");
    // What admins see is what they are told they cannot change here.
    app.patch(&format!("/api/v1/tenants/{tid}/users/{}", u.id), &admin, json!({"displayName": "A. Vance"}))
        .await
        .assert_error(400, "source_of_authority", None);
}

/// The value of a `<code ... id="{id}">value</code>` on a page.
fn code_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('<')?].to_owned())
}

async fn console_directory_sync_page(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let dev = app.create_user(&admin, &tid, "dev").await;
    add(&app, &owner, &acc, json!([{"type": "user", "id": dev["id"], "tenantId": tid}]), json!({"roles": ["developer"]})).await;
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let page = format!("/accounts/{acc}/tenants/{tid}/provisioning");
    let origin = Some(app.base.as_str());

    // Reached from Account settings → Tenants.
    let (_, tenants, _) = b.get(&format!("/accounts/{acc}/tenants")).await;
    assert!(tenants.contains(&format!("href=\"{page}\"")), "{tenants}");
    let (status, html, headers) = b.get(&page).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(html.contains("<h1>Directory sync (SCIM)</h1>") && html.contains("This tenant has no provisioning token"), "{html}");
    assert_eq!(code_of(&html, "scim-url").as_deref(), Some(format!("{}/scim/v2", app.base).as_str()));
    let csrf = csrf_of(&html);

    // A bad value is shown next to its field, with the input kept; nothing is created.
    let create = format!("{page}/tokens");
    let (status, html, _) = b.post(&create, &[("csrf", &csrf), ("name", "Entra provisioning"), ("validDays", "forever")], origin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"validDays-error\"") && html.contains("value=\"Entra provisioning\""), "{html}");
    let (status, html, _) = b.post(&create, &[("csrf", &csrf), ("name", ""), ("validDays", "30")], origin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"name-error\""), "{html}");
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], false);

    // Created: the value once, in a copyable field with the warning.
    let (status, html, _) = b.post(&create, &[("csrf", &csrf), ("name", "Entra provisioning"), ("validDays", "90")], origin).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Copy this token now") && html.contains("data-copy=\"new-token-value\""), "{html}");
    let value = code_of(&html, "new-token-value").expect("the token on the page");
    assert!(value.starts_with("atscim_"));
    app.services.authenticate_provisioner(&Secret::new(value.clone())).await.unwrap();
    let (_, html, _) = b.get(&page).await;
    assert!(!html.contains(&value), "the value is never shown again");
    assert!(html.contains("<td>Entra provisioning</td>") && html.contains(">Active</span>") && html.contains("<span class=\"tag info\">On</span>"), "{html}");

    // Revoke, behind a confirmation.
    let id = app.get(&tokens(&tid), &admin).await.ok()["value"][0]["id"].as_str().unwrap().to_owned();
    let revoke = format!("{page}/tokens/{id}/revoke");
    assert!(html.contains(&format!("href=\"{revoke}\"")), "{html}");
    let (status, confirm, _) = b.get(&revoke).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Revoke “Entra provisioning”?") && confirm.contains("refused from its next request"), "{confirm}");
    app.services.authenticate_provisioner(&Secret::new(value.clone())).await.expect("not revoked before the confirmation");
    let (status, _, location) = b.post(&revoke, &[("csrf", &csrf)], origin).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(page.as_str())));
    assert_eq!(app.services.authenticate_provisioner(&Secret::new(value)).await.unwrap_err().code, ErrorCode::Unauthenticated);
    let (_, html, _) = b.get(&page).await;
    assert!(html.contains("This tenant has no provisioning token"), "{html}");

    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], true, "directory sync stays on after the revoke");

    // A member of the account who is not the tenant's global administrator is refused.
    let (d, _) = Browser::sign_in(&app, "contoso.onatrium.local", "dev", "Us3r-Passw0rd!").await;
    let (status, html, _) = d.get(&page).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("needs a global administrator"), "{html}");
}
