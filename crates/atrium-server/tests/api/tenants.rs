use crate::helpers::TestApp;
use serde_json::json;

api_tests!(tenant_lifecycle, tenant_input_is_validated_and_nothing_is_written, tenant_admins_see_only_their_tenant);

async fn tenant_lifecycle(app: TestApp) {
    let owner = app.owner().await;
    let r = app.post("/api/v1/tenants", &owner, json!({"displayName": "Contoso", "domainPrefix": "Contoso", "contactEmail": "ops@contoso.com"})).await;
    assert_eq!(r.status, 201);
    let t = r.body["tenant"].clone();
    assert_eq!(t["domain"], "contoso.onatrium.local");
    assert_eq!(t["directorySync"], false);
    assert!(r.body.get("globalAdmin").is_none());
    let id = t["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/tenants/{id}"), &owner).await.ok()["displayName"], "Contoso");

    app.post("/api/v1/tenants", &owner, json!({"displayName": "Fabrikam", "domainPrefix": "fabrikam"})).await.ok();
    let list = app.get("/api/v1/tenants", &owner).await;
    let domains: Vec<&str> = list.ok()["items"].as_array().unwrap().iter().map(|t| t["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["contoso.onatrium.local", "fabrikam.onatrium.local", "personal.onatrium.local"]);
    let search = app.get("/api/v1/tenants?search=FAB", &owner).await;
    assert_eq!(search.ok()["items"][0]["domain"], "fabrikam.onatrium.local");
    let page = app.get("/api/v1/tenants?limit=2", &owner).await;
    let cursor = page.ok()["nextCursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/api/v1/tenants?limit=2&cursor={cursor}"), &owner).await;
    assert_eq!(rest.ok()["items"].as_array().unwrap().len(), 1);
    assert!(rest.body.get("nextCursor").is_none());

    app.clock.advance_seconds(1);
    let r = app.patch(&format!("/api/v1/tenants/{id}"), &owner, json!({"displayName": "Contoso Ltd", "contactEmail": null})).await;
    assert_eq!(r.ok()["displayName"], "Contoso Ltd");
    assert!(r.body.get("contactEmail").is_none());

    app.clock.advance_seconds(1);
    assert_eq!(app.delete(&format!("/api/v1/tenants/{id}"), &owner).await.status, 204);
    app.get(&format!("/api/v1/tenants/{id}"), &owner).await.assert_error(404, "tenant_not_found", None);
    let actions = app.audit_actions(&owner, id).await;
    assert_eq!(actions, ["tenant.delete", "tenant.update", "tenant.create"]);
    // The built-in tenant cannot be deleted.
    app.delete("/api/v1/tenants/9188040d-6c67-4c5b-b112-36a304b66dad", &owner).await.assert_error(409, "protected_object", None);
}

async fn tenant_input_is_validated_and_nothing_is_written(app: TestApp) {
    let owner = app.owner().await;
    let create = |body| app.post("/api/v1/tenants", &owner, body);
    create(json!({"displayName": "X", "domainPrefix": "not valid"})).await.assert_error(400, "invalid_domain_prefix", Some("domainPrefix"));
    create(json!({"displayName": "X", "domainPrefix": "x", "contactEmail": "nope"})).await.assert_error(400, "invalid_email", Some("contactEmail"));
    create(json!({"displayName": "X", "domainPrefix": "x", "colour": "red"})).await.assert_error(400, "unknown_field", Some("colour"));
    create(json!({"domainPrefix": "x"})).await.assert_error(400, "missing_field", Some("displayName"));
    create(json!({"displayName": 5, "domainPrefix": "x"})).await.assert_error(400, "invalid_json", Some("displayName"));
    create(json!({"displayName": "X", "domainPrefix": "x",
                  "globalAdmin": {"givenName": "A", "surname": "B", "username": "admin", "password": "weak"}}))
        .await
        .assert_error(400, "weak_password", Some("globalAdmin.password"));
    create(json!({"displayName": "X", "domainPrefix": "x",
                  "globalAdmin": {"givenName": "A", "surname": "B", "username": "admin@elsewhere.com", "password": "Adm1n-Passw0rd!"}}))
        .await
        .assert_error(400, "upn_domain_not_verified", Some("globalAdmin.username"));
    create(json!({"displayName": "Personal again", "domainPrefix": "personal"})).await.assert_error(409, "tenant_domain_taken", Some("domainPrefix"));

    let not_json = app.client.post(format!("{}/api/v1/tenants", app.base)).bearer_auth(&owner).body("displayName=X").send().await.unwrap();
    assert_eq!(not_json.status(), 415);
    let big = json!({"displayName": "x".repeat(20_000), "domainPrefix": "big"});
    create(big).await.assert_error(413, "payload_too_large", None);
    app.get("/api/v1/tenants/not-a-guid", &owner).await.assert_error(400, "invalid_id", Some("tenantId"));
    app.get("/api/v1/tenants?limit=0", &owner).await.assert_error(400, "invalid_limit", Some("limit"));
    app.get("/api/v1/tenants?cursor=***", &owner).await.assert_error(400, "invalid_cursor", Some("cursor"));

    // None of the refused requests wrote anything.
    let list = app.get("/api/v1/tenants", &owner).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
    let audit = app.get("/api/v1/audit", &owner).await;
    assert!(audit.ok().as_array().unwrap().iter().all(|e| e["action"] != "tenant.create"));
}

async fn tenant_admins_see_only_their_tenant(app: TestApp) {
    let owner = app.owner().await;
    let (a, admin_a) = app.tenant_with_admin(&owner, "alpha").await;
    let (b, _) = app.tenant_with_admin(&owner, "bravo").await;
    let list = app.get("/api/v1/tenants", &admin_a).await;
    let items = list.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], a.as_str());
    app.get(&format!("/api/v1/tenants/{b}"), &admin_a).await.assert_error(404, "tenant_not_found", None);
    app.post("/api/v1/tenants", &admin_a, json!({"displayName": "Mine", "domainPrefix": "mine"})).await.assert_error(403, "forbidden", None);
    app.delete(&format!("/api/v1/tenants/{b}"), &admin_a).await.assert_error(403, "forbidden", None);
    // A tenant's global admin may rename their own tenant.
    assert_eq!(app.patch(&format!("/api/v1/tenants/{a}"), &admin_a, json!({"displayName": "Alpha Inc"})).await.ok()["displayName"], "Alpha Inc");
    app.patch(&format!("/api/v1/tenants/{b}"), &admin_a, json!({"displayName": "Mine now"})).await.assert_error(404, "tenant_not_found", None);
    app.get("/api/v1/audit", &admin_a).await.assert_error(403, "forbidden", None);
}
