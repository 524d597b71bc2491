//! Partner accounts: seed 000 (tenants) and seed 002 (users, groups, applications) walked
//! through the API, on both backends.

use crate::helpers::TestApp;
use serde_json::{Value, json};

api_tests!(seed_000_associate_create_and_remove_tenants, seed_002_users_groups_and_applications, access_checks_explain_and_scope_by_product, activity_history_and_account_audit, create_application_with_access_is_one_transaction);

pub async fn create_account(app: &TestApp, owner: &str, name: &str) -> String {
    let r = app.post("/api/v1/accounts", owner, json!({"name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["isOwner"], true);
    r.body["id"].as_str().unwrap().to_owned()
}

/// An account with a tenant created from it (`<prefix>`, global admin `admin`, who is a Manager
/// of the account from the start). Returns (account, tenant id, admin token).
pub async fn account_with_manager(app: &TestApp, owner: &str, prefix: &str) -> (String, String, String) {
    let acc = create_account(app, owner, "Contoso Games").await;
    let r = app
        .post(
            &format!("/api/v1/accounts/{acc}/tenants"),
            owner,
            json!({"displayName": format!("Tenant {prefix}"), "domainPrefix": prefix, "contactEmail": "ops@example.com",
                   "globalAdmin": {"givenName": "Ada", "surname": "Admin", "username": "admin", "password": "Adm1n-Passw0rd!"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tid = r.body["tenant"]["id"].as_str().unwrap().to_owned();
    let token = app.token(&format!("{prefix}.onatrium.local"), "admin", "Adm1n-Passw0rd!").await;
    (acc, tid, token)
}

/// Adds principals and asserts every item was added.
pub async fn add(app: &TestApp, token: &str, acc: &str, principals: Value, grant: Value) -> Value {
    let r = app.post(&format!("/api/v1/accounts/{acc}/members"), token, json!({"principals": principals, "grant": grant})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for item in r.body["results"].as_array().unwrap() {
        assert_eq!(item["status"], "added", "{item}");
    }
    r.body.clone()
}

async fn member_ids(app: &TestApp, token: &str, acc: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/accounts/{acc}/members"), token).await;
    r.ok().as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
}

async fn seed_000_associate_create_and_remove_tenants(app: TestApp) {
    let owner = app.owner().await;
    let acc = create_account(&app, &owner, "Contoso Games").await;
    // R1: until a tenant is associated the account has only its owner.
    assert!(member_ids(&app, &owner, &acc).await.is_empty());
    assert!(app.get(&format!("/api/v1/accounts/{acc}/tenants"), &owner).await.ok().as_array().unwrap().is_empty());

    // An existing tenant (made by the instance admin) with an ordinary user: global admin is
    // not needed to associate it.
    let (fab, fab_admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    app.create_user(&fab_admin, &fab, "frank").await;
    let start = format!("/api/v1/accounts/{acc}/tenants/associations");
    app.post(&start, &owner, json!({"tenant": "u\u{a2}", "username": "frank", "password": "x"}))
        .await
        .assert_error(400, "invalid_request", Some("tenant"));
    app.post(&start, &owner, json!({"tenant": "nowhere.onatrium.local", "username": "frank", "password": "x"}))
        .await
        .assert_error(404, "tenant_not_found", Some("tenant"));
    app.post(&start, &owner, json!({"tenant": "fabrikam.onatrium.local", "username": "frank", "password": "wrong"}))
        .await
        .assert_error(401, "invalid_credentials", None);
    let r = app.post(&start, &owner, json!({"tenant": "fabrikam.onatrium.local", "username": "frank", "password": "Us3r-Passw0rd!"})).await;
    assert_eq!(r.ok()["organization"], "Tenant fabrikam");
    assert_eq!(r.body["domain"], "fabrikam.onatrium.local");
    let token = r.body["token"].as_str().unwrap().to_owned();
    // Not yet associated: reviewing is not confirming.
    assert!(app.get(&format!("/api/v1/accounts/{acc}/tenants"), &owner).await.ok().as_array().unwrap().is_empty());
    let confirm = format!("/api/v1/accounts/{acc}/tenants/associations/confirm");
    app.post(&confirm, &owner, json!({"token": "atra_nope"})).await.assert_error(400, "association_not_found", Some("token"));
    let r = app.post(&confirm, &owner, json!({"token": token})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["domain"], "fabrikam.onatrium.local");
    app.post(&confirm, &owner, json!({"token": token})).await.assert_error(400, "association_not_found", None);
    let again = app.post(&start, &owner, json!({"tenant": fab, "username": "frank", "password": "Us3r-Passw0rd!"})).await;
    let again = again.body["token"].as_str().unwrap().to_owned();
    app.post(&confirm, &owner, json!({"token": again})).await.assert_error(409, "tenant_already_associated", None);

    // Create a brand-new tenant from the account; invalid input writes nothing.
    let tenants = format!("/api/v1/accounts/{acc}/tenants");
    let admin = json!({"givenName": "Ada", "surname": "Admin", "username": "admin", "password": "Adm1n-Passw0rd!"});
    app.post(&tenants, &owner, json!({"displayName": "X", "domainPrefix": "no good", "globalAdmin": admin})).await.assert_error(400, "invalid_domain_prefix", Some("domainPrefix"));
    app.post(&tenants, &owner, json!({"displayName": "X", "domainPrefix": "northwind"})).await.assert_error(400, "missing_field", Some("globalAdmin"));
    app.post(&tenants, &owner, json!({"displayName": "X", "domainPrefix": "northwind", "contactEmail": "bad", "globalAdmin": admin})).await.assert_error(400, "invalid_email", Some("contactEmail"));
    let r = app.post(&tenants, &owner, json!({"displayName": "Northwind", "domainPrefix": "northwind", "contactEmail": "ops@northwind.com", "globalAdmin": admin})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let nw = r.body["tenant"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["globalAdmin"]["globalAdmin"], true);
    let list = app.get(&tenants, &owner).await;
    let domains: Vec<&str> = list.ok().as_array().unwrap().iter().map(|t| t["tenant"]["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["fabrikam.onatrium.local", "northwind.onatrium.local"]);

    // The new tenant's admin is a Manager of the account at once (seed 000: they sign in next
    // to add users); frank gets a role.
    let nw_admin_id = r.body["globalAdmin"]["id"].as_str().unwrap().to_owned();
    assert!(member_ids(&app, &owner, &acc).await.contains(&nw_admin_id), "the new tenant's global admin is a member");
    let frank_id = app.get(&format!("/api/v1/tenants/{fab}/users/frank"), &fab_admin).await.body["id"].as_str().unwrap().to_owned();
    add(&app, &owner, &acc, json!([{"type": "user", "id": frank_id, "tenantId": fab}]), json!({"roles": ["developer"]})).await;
    let nw_manager = app.token("northwind.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let frank = app.token("fabrikam.onatrium.local", "frank", "Us3r-Passw0rd!").await;
    assert_eq!(app.get(&format!("/api/v1/accounts/{acc}"), &frank).await.status, 200);

    // R3: a Manager cannot remove the tenant they signed in through…
    app.delete(&format!("{tenants}/{nw}"), &nw_manager).await.assert_error(409, "current_tenant", Some("tenantId"));
    // …but can remove another one. Its users lose access and their permissions.
    assert_eq!(app.delete(&format!("{tenants}/{fab}"), &nw_manager).await.status, 204);
    app.get(&format!("/api/v1/accounts/{acc}"), &frank).await.assert_error(404, "account_not_found", None);
    assert!(!member_ids(&app, &owner, &acc).await.contains(&frank_id), "the removed tenant's grants are gone");
    // The directory is untouched.
    assert_eq!(app.get(&format!("/api/v1/tenants/{fab}/users/{frank_id}"), &fab_admin).await.status, 200);
    // The last tenant can be removed only by the owner.
    let other_manager_removal = app.delete(&format!("{tenants}/{nw}"), &nw_manager).await;
    other_manager_removal.assert_error(409, "current_tenant", None);
    assert_eq!(app.delete(&format!("{tenants}/{nw}"), &owner).await.status, 204);
    assert!(member_ids(&app, &owner, &acc).await.is_empty(), "back to single-user mode");
    let audit = app.get(&format!("/api/v1/accounts/{acc}/audit"), &owner).await;
    let actions: Vec<&str> = audit.ok().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["account.create", "account.tenant.associate", "account.tenant.create", "account.member.add", "account.tenant.remove"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

async fn seed_002_users_groups_and_applications(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let members = format!("/api/v1/accounts/{acc}/members");
    // Existing directory users, added together with one grant; per-item results.
    let ann = app.create_user(&admin, &tid, "ann").await["id"].as_str().unwrap().to_owned();
    let bob = app.create_user(&admin, &tid, "bob").await["id"].as_str().unwrap().to_owned();
    let r = app
        .post(&members, &admin, json!({"principals": [{"type": "user", "id": ann}, {"type": "user", "id": "bob@contoso.onatrium.local"},
                                                      {"type": "user", "id": "nobody"}], "grant": {"roles": ["developer"]}}))
        .await;
    let results = r.ok()["results"].as_array().unwrap().clone();
    assert_eq!(results.iter().map(|i| i["status"].as_str().unwrap()).collect::<Vec<_>>(), ["added", "added", "failed"]);
    assert_eq!(results[2]["error"]["code"], "user_not_found");
    assert_eq!(results[0]["member"]["grant"]["roles"][0], "developer");
    let r = app.post(&members, &admin, json!({"principals": [{"type": "user", "id": ann}], "grant": {"roles": ["marketer"]}})).await;
    assert_eq!(r.ok()["results"][0]["error"]["code"], "already_member");

    // Bad grants are refused whole, naming the problem; nothing is written.
    let bad = |grant: Value| app.post(&members, &admin, json!({"principals": [{"type": "user", "id": "admin"}], "grant": grant}));
    bad(json!({})).await.assert_error(400, "invalid_request", Some("grant"));
    bad(json!({"permissions": [{"permission": "teleport", "level": "read_only"}]})).await.assert_error(400, "invalid_request", Some("permissions[0].permission"));
    bad(json!({"roles": ["emperor"]})).await.assert_error(400, "invalid_request", Some("roles[0]"));
    let other_acc = create_account(&app, &owner, "Other").await;
    let foreign = app.post(&format!("/api/v1/accounts/{other_acc}/products"), &owner, json!({"name": "Foreign"})).await.body["id"].as_str().unwrap().to_owned();
    bad(json!({"permissions": [{"permission": "packages", "level": "read_write", "products": [foreign]}]}))
        .await
        .assert_error(400, "invalid_request", Some("permissions[0].products[0]"));
    // R8: a Manager lacks payout and tax, so cannot grant Finance Contributor.
    bad(json!({"roles": ["finance_contributor"]})).await.assert_error(403, "grant_exceeds_yours", None);
    // A principal from an unassociated tenant.
    let (fab, fab_admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let outsider = app.create_user(&fab_admin, &fab, "olga").await["id"].as_str().unwrap().to_owned();
    let r = app.post(&members, &owner, json!({"principals": [{"type": "user", "id": outsider, "tenantId": fab}], "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.ok()["results"][0]["error"]["code"], "tenant_not_associated");
    assert_eq!(app.get(&members, &admin).await.ok().as_array().unwrap().len(), 3, "admin, ann and bob");

    // Create a new user (global admin): the temporary password is shown once and must be changed.
    let users = format!("{members}/users");
    app.post(&users, &admin, json!({"userPrincipalName": "gina", "globalAdmin": true, "grant": {"roles": ["developer"]}}))
        .await
        .assert_error(400, "recovery_email_required", Some("recoveryEmail"));
    let r = app
        .post(&users, &admin, json!({"userPrincipalName": "carol", "givenName": "Carol", "surname": "Kim", "grant": {"roles": ["business_contributor"]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let temp = r.body["temporaryPassword"].as_str().unwrap().to_owned();
    let carol = r.body["user"]["id"].as_str().unwrap().to_owned();
    let s = app.sign_in("contoso.onatrium.local", "carol", &temp).await;
    assert_eq!(s.ok()["mustChangePassword"], true);

    // Reset a password: a new temporary one; the old one stops working.
    let r = app.post(&format!("{members}/user/{carol}/reset-password"), &admin, json!({})).await;
    let temp2 = r.ok()["temporaryPassword"].as_str().unwrap().to_owned();
    assert_ne!(temp, temp2);
    app.sign_in("contoso.onatrium.local", "carol", &temp).await.assert_error(401, "invalid_credentials", None);
    app.sign_in("contoso.onatrium.local", "carol", &temp2).await.ok();

    // Edit access (R9: account only).
    let r = app.patch(&format!("{members}/user/{ann}"), &admin, json!({"grant": {"roles": ["marketer"]}})).await;
    assert_eq!(r.ok()["grant"]["roles"][0], "marketer");
    app.patch(&format!("{members}/user/{ann}"), &admin, json!({"grant": {"roles": []}})).await.assert_error(400, "invalid_request", Some("grant"));

    // Groups: create one with members and a role; add an existing one.
    let r = app
        .post(&format!("{members}/groups"), &admin, json!({"displayName": "Release team", "members": [bob], "grant": {"roles": ["business_contributor"]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let existing = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "QA"})).await.body["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "group", "id": existing}]), json!({"permissions": [{"permission": "health", "level": "read_only"}]})).await;

    // Applications: an app of the directory added with the Manager role.
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Store API client", "replyUrls": ["https://ci.contoso.com/cb"]})).await;
    let app_id = a.body["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "application", "id": a.body["appId"]}]), json!({"roles": ["manager"]})).await;
    let listed = app.get(&members, &admin).await;
    let kinds: Vec<(String, String)> = listed.ok().as_array().unwrap().iter().map(|m| (m["type"].as_str().unwrap().into(), m["displayName"].as_str().unwrap().into())).collect();
    for (k, n) in [("user", "Carol Kim"), ("group", "Release team"), ("group", "QA"), ("application", "Store API client")] {
        assert!(kinds.contains(&(k.to_string(), n.to_string())), "{k} {n} missing from {kinds:?}");
    }

    // Remove from the account: the directory object remains.
    assert_eq!(app.delete(&format!("{members}/application/{app_id}"), &admin).await.status, 204);
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/applications/{app_id}"), &admin).await.status, 200);
    // Delete from organization: the user is gone from the directory too.
    assert_eq!(app.post(&format!("{members}/user/{carol}/delete-from-organization"), &admin, json!({})).await.status, 204);
    app.get(&format!("/api/v1/tenants/{tid}/users/{carol}"), &admin).await.assert_error(404, "user_not_found", None);

    // A Manager without global admin can add existing users but not create them.
    let dev = app.create_user(&admin, &tid, "dmitri").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "user", "id": dev}]), json!({"roles": ["manager"]})).await;
    let dmitri = app.token("contoso.onatrium.local", "dmitri", "Us3r-Passw0rd!").await;
    app.post(&users, &dmitri, json!({"userPrincipalName": "x", "grant": {"roles": ["developer"]}})).await.assert_error(403, "global_admin_required", None);
    let eve = app.create_user(&admin, &tid, "eve").await["id"].as_str().unwrap().to_owned();
    add(&app, &dmitri, &acc, json!([{"type": "user", "id": eve}]), json!({"roles": ["developer"]})).await;

    // R5: a directory-sync tenant refuses creates; its objects can still be added.
    app.patch(&format!("/api/v1/tenants/{tid}"), &owner, json!({"directorySync": true})).await.ok();
    app.post(&users, &admin, json!({"userPrincipalName": "zoe", "grant": {"roles": ["developer"]}})).await.assert_error(409, "directory_sync_enabled", None);
    app.post(&format!("{members}/groups"), &admin, json!({"displayName": "G2", "grant": {"roles": ["developer"]}})).await.assert_error(409, "directory_sync_enabled", None);
    // The owner cannot be edited or removed: the owner is not a member at all.
    let me = app.get("/api/v1/me", &owner).await.body["user"]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("{members}/user/{me}"), &admin).await.assert_error(409, "protected_object", Some("principalId"));
    app.patch(&format!("{members}/user/{me}"), &admin, json!({"grant": {"roles": ["developer"]}})).await.assert_error(409, "protected_object", Some("principalId"));
}

async fn access_checks_explain_and_scope_by_product(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let products = format!("/api/v1/accounts/{acc}/products");
    let p1 = app.post(&products, &admin, json!({"name": "Game One"})).await.body["id"].as_str().unwrap().to_owned();
    let p2 = app.post(&products, &admin, json!({"name": "Game Two"})).await.body["id"].as_str().unwrap().to_owned();
    app.post(&products, &admin, json!({"name": "game one"})).await.assert_error(409, "product_name_taken", Some("name"));
    let ann = app.create_user(&admin, &tid, "ann").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "user", "id": ann}]),
        json!({"permissions": [{"permission": "packages", "level": "read_write", "products": [p1]}, {"permission": "usage", "level": "read_only"}]})).await;
    let g = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "Finance", "members": [ann]})).await.body["id"].as_str().unwrap().to_owned();
    add(&app, &owner, &acc, json!([{"type": "group", "id": g, "tenantId": tid}]), json!({"roles": ["finance_contributor"]})).await;

    let check = format!("/api/v1/accounts/{acc}/access/check");
    let who = json!({"type": "user", "id": ann});
    let c = |perm: &str, product: Option<&str>| json!({"principal": who, "permission": perm, "product": product});
    let r = app.post(&check, &admin, c("packages", Some(&p1))).await;
    assert_eq!((r.ok()["allowed"].as_bool(), r.body["level"].as_str()), (Some(true), Some("read_write")));
    assert_eq!(r.body["because"][0]["via"]["kind"], "permission");
    let r = app.post(&check, &admin, c("packages", Some(&p2))).await;
    assert_eq!(r.ok()["allowed"], false, "product-scoped: only Game One");
    // Through the group (R7 union).
    let r = app.post(&check, &admin, c("payout_account", None)).await;
    assert_eq!(r.ok()["allowed"], true);
    assert_eq!(r.body["because"][0]["source"]["kind"], "group");
    assert_eq!(r.body["because"][0]["via"]["role"], "finance_contributor");
    // Managers lack payout; the owner has everything.
    assert_eq!(app.post(&check, &admin, json!({"permission": "payout_account"})).await.ok()["allowed"], false);
    let r = app.post(&check, &owner, json!({"permission": "payout_account"})).await;
    assert_eq!((r.ok()["allowed"].as_bool(), r.body["because"][0]["via"]["kind"].as_str()), (Some(true), Some("owner")));
    // Bad input.
    app.post(&check, &admin, json!({"permission": "teleport"})).await.assert_error(400, "invalid_request", Some("permission"));
    let foreign_acc = create_account(&app, &owner, "Other").await;
    let foreign = app.post(&format!("/api/v1/accounts/{foreign_acc}/products"), &owner, json!({"name": "X"})).await.body["id"].as_str().unwrap().to_owned();
    app.post(&check, &admin, json!({"permission": "packages", "product": foreign})).await.assert_error(404, "product_not_found", Some("product"));
    // Batch.
    let r = app.post(&format!("/api/v1/accounts/{acc}/access/check-batch"), &admin, json!({"checks": [c("usage", None), c("tax_profile", None), {"permission": "nope"}]})).await;
    let results = r.ok()["results"].as_array().unwrap().clone();
    assert_eq!(results[0]["allowed"], true);
    assert_eq!(results[1]["allowed"], true, "Finance Contributor via the group");
    assert_eq!(results[2]["error"]["code"], "invalid_request");
    // The member may ask about themselves; the catalog lists every permission.
    let ann_token = app.token("contoso.onatrium.local", "ann", "Us3r-Passw0rd!").await;
    assert_eq!(app.post(&check, &ann_token, json!({"permission": "packages", "product": p1})).await.ok()["allowed"], true);
    let cat = app.get("/api/v1/catalog", &ann_token).await;
    assert!(cat.ok()["permissions"].as_array().unwrap().len() > 50);
    assert!(cat.body["roles"].as_array().unwrap().iter().any(|r| r["hardwareName"] == "Administrator"));
}

async fn activity_history_and_account_audit(app: TestApp) {
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    let admin_id = app.get("/api/v1/me", &admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/api/v1/accounts/{acc}/members"), &admin).await.status, 200);
    }
    // Recorded off the request path: batches are written every second.
    let mut history = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        history = app.get(&format!("/api/v1/accounts/{acc}/members/user/{admin_id}/activity"), &owner).await.body;
        if history.as_array().is_some_and(|h| h.len() >= 3) {
            break;
        }
    }
    let routes: Vec<&str> = history.as_array().unwrap().iter().map(|a| a["route"].as_str().unwrap()).collect();
    // The concrete path visited, not the route template (issue 19, item 8).
    let visited = format!("/api/v1/accounts/{acc}/members");
    assert!(routes.iter().filter(|r| **r == visited).count() >= 3, "{history}");
    let members = app.get(&format!("/api/v1/accounts/{acc}/members"), &owner).await;
    let me = members.ok().as_array().unwrap().iter().find(|m| m["id"] == admin_id.as_str()).unwrap().clone();
    assert!(me["lastActivity"].is_string(), "Last activity is shown: {me}");
    // Only the owner sees the history.
    app.get(&format!("/api/v1/accounts/{acc}/members/user/{admin_id}/activity"), &admin).await.assert_error(403, "owner_only", None);

    // The account audit log filters by actor and target.
    let audit = format!("/api/v1/accounts/{acc}/audit");
    let by_target = app.get(&format!("{audit}?target={admin_id}"), &owner).await;
    let events = by_target.ok().as_array().unwrap().clone();
    assert!(!events.is_empty() && events.iter().all(|e| e["targetId"] == admin_id.as_str()));
    let owner_id = app.get("/api/v1/me", &owner).await.body["user"]["id"].as_str().unwrap().to_owned();
    let by_actor = app.get(&format!("{audit}?actor={owner_id}"), &owner).await;
    assert!(by_actor.ok().as_array().unwrap().iter().all(|e| e["actorUserId"] == owner_id.as_str()));
}

api_tests!(r13_applications_call_the_account_api_with_tokens);

async fn cc_token(app: &TestApp, tid: &str, client_id: &str, secret: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/{tid}/oauth2/v2.0/token", app.base))
        .form(&[("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", secret), ("scope", "https://manage.devcenter.microsoft.com/.default")])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn r13_applications_call_the_account_api_with_tokens(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let mut apps = Vec::new();
    for name in ["CI pipeline", "Reporting"] {
        let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": name})).await;
        let cid = a.body["appId"].as_str().unwrap().to_owned();
        let secret = app.post(&format!("/api/v1/tenants/{tid}/applications/{cid}/keys"), &admin, json!({})).await.body["secret"].as_str().unwrap().to_owned();
        apps.push((a.body["id"].as_str().unwrap().to_owned(), cid, secret));
    }
    let (ci_id, ci, ci_secret) = apps[0].clone();
    let (rep_id, rep, rep_secret) = apps[1].clone();
    // R13: not a member of any account, no token for the account API.
    let (status, body) = cc_token(&app, &tid, &ci, &ci_secret).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(501051)), "{body}");

    add(&app, &admin, &acc, json!([{"type": "application", "id": ci}]), json!({"roles": ["manager"]})).await;
    add(&app, &admin, &acc, json!([{"type": "application", "id": rep}]), json!({"roles": ["developer"]})).await;
    let ci_token = cc_token(&app, &tid, &ci, &ci_secret).await.1["access_token"].as_str().unwrap().to_owned();
    let rep_token = cc_token(&app, &tid, &rep, &rep_secret).await.1["access_token"].as_str().unwrap().to_owned();

    // The Manager app manages users; the Developer app cannot even list them.
    let members = format!("/api/v1/accounts/{acc}/members");
    assert_eq!(app.get(&members, &ci_token).await.status, 200);
    let ann = app.create_user(&admin, &tid, "ann").await["id"].as_str().unwrap().to_owned();
    add(&app, &ci_token, &acc, json!([{"type": "user", "id": ann}]), json!({"roles": ["developer"]})).await;
    app.get(&members, &rep_token).await.assert_error(403, "forbidden", None);
    // Even with Account users read/write, an application manages users only as a Manager.
    app.patch(&format!("{members}/application/{rep_id}"), &admin, json!({"grant": {"roles": ["developer"], "permissions": [{"permission": "account_users", "level": "read_write"}]}})).await.ok();
    let bob = app.create_user(&admin, &tid, "bob").await["id"].as_str().unwrap().to_owned();
    let r = app.post(&members, &rep_token, json!({"principals": [{"type": "user", "id": bob}], "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.ok()["results"][0]["error"]["code"], "forbidden", "{}", r.body);
    assert!(r.body["results"][0]["error"]["message"].as_str().unwrap().contains("only with the Manager role"));
    // Account-API tokens are not directory credentials.
    app.get("/api/v1/tenants", &ci_token).await.assert_error(403, "forbidden", None);
    app.get(&format!("/api/v1/tenants/{tid}/users"), &ci_token).await.assert_error(403, "forbidden", None);
    // A tampered token is refused.
    let mut bad = ci_token.clone();
    bad.pop();
    app.get(&members, &bad).await.assert_error(401, "unauthenticated", None);

    // The access check answers for the bearer of a token.
    let check = format!("/api/v1/accounts/{acc}/access/check");
    let r = app.post(&check, &owner, json!({"token": ci_token, "permission": "account_users"})).await;
    assert_eq!((r.ok()["allowed"].as_bool(), r.body["level"].as_str()), (Some(true), Some("read_write")));
    let r = app.post(&check, &owner, json!({"token": "eyJ.not.valid", "permission": "account_users"})).await;
    r.assert_error(401, "unauthenticated", Some("token"));
    // Removing the app from the account ends its access (its token stays valid for the API, but grants nothing).
    assert_eq!(app.delete(&format!("{members}/application/{ci_id}"), &admin).await.status, 204);
    app.get(&members, &ci_token).await.assert_error(404, "account_not_found", None);
}

/// "Create a new application": registered and added at once; a refused grant or a clash leaves
/// nothing behind.
async fn create_application_with_access_is_one_transaction(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let url = format!("/api/v1/accounts/{acc}/members/applications");
    let apps_url = format!("/api/v1/tenants/{tid}/applications");
    // A Manager cannot grant Finance Contributor (R8): no registration is left behind.
    app.post(&url, &admin, json!({"displayName": "Payouts", "grant": {"roles": ["finance_contributor"]}})).await.assert_error(403, "grant_exceeds_yours", None);
    app.post(&url, &admin, json!({"displayName": "Nothing", "grant": {"roles": []}})).await.assert_error(400, "invalid_request", None);
    assert_eq!(app.get(&apps_url, &admin).await.ok()["items"].as_array().unwrap().len(), 0);
    let r = app.post(&url, &admin, json!({"displayName": "Store tool", "replyUrls": ["https://tool.example.com/cb"], "grant": {"roles": ["manager"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["member"]["type"], "application");
    assert_eq!(r.body["member"]["grant"]["roles"], json!(["manager"]));
    assert_eq!(r.body["application"]["replyUrls"], json!(["https://tool.example.com/cb"]));
    // The Reply URL is taken: refused by field, and nothing else is written.
    app.post(&url, &admin, json!({"displayName": "Copy", "replyUrls": ["https://TOOL.example.com/cb"], "grant": {"roles": ["developer"]}}))
        .await
        .assert_error(409, "reply_url_taken", Some("replyUrls[0]"));
    assert_eq!(app.get(&apps_url, &admin).await.ok()["items"].as_array().unwrap().len(), 1);
    // The owner is outside the directory: creating needs a global admin signed in through it.
    app.post(&url, &owner, json!({"displayName": "X", "grant": {"roles": ["developer"]}})).await.assert_error(403, "global_admin_required", None);
}
