//! Graph `/v1.0/users` and `/me` (issue 13): shapes, create/get/patch/delete through the same
//! services as REST (uniqueness, protected objects, R5), OData options and paging.

use crate::graph_permissions::{assert_graph_error, contoso, graph_app};
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

api_tests!(graph_user_lifecycle, graph_users_follow_the_directory_rules, graph_user_queries_filter_select_search_count, graph_users_page_with_next_link);

fn new_user(alias: &str, display: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "accountEnabled": true, "displayName": display, "mailNickname": alias,
           "userPrincipalName": format!("{alias}@contoso.onatrium.local"), "passwordProfile": {"password": "Us3r-Passw0rd!", "forceChangePasswordNextSignIn": false}})
}

async fn graph_user_lifecycle(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Provisioner", &["User.ReadWrite.All", "Group.Read.All"]).await;
    // Create: 201 with Graph's default properties; the password never comes back.
    let r = app.post("/v1.0/users", &t, new_user("adele", "Adele Vance")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["@odata.context"], format!("{}/v1.0/$metadata#users/$entity", app.base));
    assert_eq!(r.body["userPrincipalName"], "adele@contoso.onatrium.local");
    assert_eq!(r.body["businessPhones"], json!([]));
    assert!(r.body.get("passwordProfile").is_none() && !r.body.to_string().contains("Us3r-Passw0rd!"), "{}", r.body);
    assert!(r.body.get("accountEnabled").is_none(), "accountEnabled only with $select: {}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Read-your-writes: at once, by id and by userPrincipalName (percent-encoded as the SDKs send it).
    let by_id = app.get(&format!("/v1.0/users/{id}"), &t).await;
    assert_eq!(by_id.ok()["displayName"], "Adele Vance");
    assert_eq!(app.get("/v1.0/users/adele%40contoso.onatrium.local", &t).await.ok()["id"], id.as_str());
    let sel = app.get(&format!("/v1.0/users/{id}?$select=accountEnabled,userType,mailNickname,createdDateTime"), &t).await;
    assert_eq!(sel.ok()["accountEnabled"], true);
    assert_eq!((sel.body["userType"].as_str(), sel.body["mailNickname"].as_str()), (Some("Member"), Some("adele")));
    assert!(sel.body.get("displayName").is_none(), "{}", sel.body);
    assert_eq!(sel.body["@odata.context"], format!("{}/v1.0/$metadata#users(accountEnabled,userType,mailNickname,createdDateTime)/$entity", app.base));
    // The user is the same directory object REST and the console see, and signs in.
    let rest = app.get(&format!("/api/v1/tenants/{}/users/{id}", c.tid), &c.admin).await;
    assert_eq!(rest.ok()["userPrincipalName"], "adele@contoso.onatrium.local");
    app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    // PATCH: 204; null clears; unknown properties are refused by name.
    let r = app.patch(&format!("/v1.0/users/{id}"), &t, json!({"displayName": "Adele V.", "givenName": "Adele", "surname": null})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let after = app.get(&format!("/v1.0/users/{id}"), &t).await;
    assert_eq!((after.ok()["displayName"].as_str(), after.body["givenName"].as_str(), after.body["surname"].as_str()), (Some("Adele V."), Some("Adele"), None));
    let r = app.patch(&format!("/v1.0/users/{id}"), &t, json!({"officeLocation": "B1"})).await;
    assert_graph_error(&r, 400, "Request_BadRequest");
    assert_eq!(r.body["error"]["target"], "officeLocation");
    app.patch(&format!("/v1.0/users/{id}"), &t, json!({"accountEnabled": false})).await;
    assert_eq!(app.sign_in("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await.status, 403, "a disabled user cannot sign in");
    // memberOf / transitiveMemberOf: the user's groups, typed.
    let g = app.post(&format!("/api/v1/tenants/{}/groups", c.tid), &c.admin, json!({"displayName": "Sales", "members": [id]})).await;
    let gid = g.ok()["id"].as_str().unwrap().to_owned();
    for rel in ["memberOf", "transitiveMemberOf"] {
        let r = app.get(&format!("/v1.0/users/{id}/{rel}"), &t).await;
        assert_eq!(r.ok()["value"][0]["id"], gid.as_str(), "{rel}");
        assert_eq!(r.body["value"][0]["@odata.type"], "#microsoft.graph.group");
        assert_eq!(r.body["@odata.context"], format!("{}/v1.0/$metadata#directoryObjects", app.base));
    }
    // No managers in Atrium's directory: Graph's 404 for a user without one.
    assert_graph_error(&app.get(&format!("/v1.0/users/{id}/manager"), &t).await, 404, "Request_ResourceNotFound");
    // DELETE: 204, then 404 in Graph's words.
    assert_eq!(app.delete(&format!("/v1.0/users/{id}"), &t).await.status, 204);
    let r = app.get(&format!("/v1.0/users/{id}"), &t).await;
    assert_graph_error(&r, 404, "Request_ResourceNotFound");
    assert!(r.body["error"]["message"].as_str().unwrap().starts_with(&format!("Resource '{id}' does not exist")), "{}", r.body);
    assert_graph_error(&app.delete(&format!("/v1.0/users/{id}"), &t).await, 404, "Request_ResourceNotFound");
    let audit = app.audit_actions(&c.admin, &c.tid).await;
    assert!(audit.iter().any(|a| a == "user.create") && audit.iter().any(|a| a == "user.delete"), "{audit:?}");
    // /me with a session: the signed-in user.
    let me = app.get("/v1.0/me?$select=id,userPrincipalName", &c.admin).await;
    assert_eq!(me.ok()["userPrincipalName"], "admin@contoso.onatrium.local");
    assert!(me.body.get("displayName").is_none());
    // Read-your-writes on another node of the same database.
    let r = app.post("/v1.0/users", &t, new_user("bianca", "Bianca Pisani")).await;
    let bid = r.body["id"].as_str().unwrap().to_owned();
    let node2 = app.second_node().await;
    assert_eq!(node2.get(&format!("/v1.0/users/{bid}"), &t).await.ok()["displayName"], "Bianca Pisani");
}

async fn graph_users_follow_the_directory_rules(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Rules", &["User.ReadWrite.All"]).await;
    // Graph's required properties, each named when missing.
    for field in ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"] {
        let mut body = new_user("zed", "Zed");
        body.as_object_mut().unwrap().remove(field);
        let r = app.post("/v1.0/users", &t, body).await;
        assert_graph_error(&r, 400, "Request_BadRequest");
        assert_eq!(r.body["error"]["target"], field, "{}", r.body);
    }
    // Properties Atrium does not keep are refused, not dropped.
    let mut body = new_user("zed", "Zed");
    body["jobTitle"] = json!("Boss");
    let r = app.post("/v1.0/users", &t, body).await;
    assert_eq!((r.status.as_u16(), r.body["error"]["target"].as_str()), (400, Some("jobTitle")), "{}", r.body);
    // The alias must match; the domain must be the tenant's.
    let mut body = new_user("zed", "Zed");
    body["mailNickname"] = json!("other");
    assert_eq!(app.post("/v1.0/users", &t, body).await.body["error"]["target"], "mailNickname");
    let mut body = new_user("zed", "Zed");
    body["userPrincipalName"] = json!("zed@fabrikam.com");
    let r = app.post("/v1.0/users", &t, body).await;
    assert_eq!((r.status.as_u16(), r.body["error"]["target"].as_str()), (400, Some("userPrincipalName")), "{}", r.body);
    // Weak password and duplicate UPN: Graph's own words.
    let mut body = new_user("zed", "Zed");
    body["passwordProfile"]["password"] = json!("short");
    let r = app.post("/v1.0/users", &t, body).await;
    assert_graph_error(&r, 400, "Request_BadRequest");
    assert_eq!(r.body["error"]["message"], "The specified password does not comply with password complexity requirements. Please provide a different password.");
    assert_eq!(app.post("/v1.0/users", &t, new_user("zed", "Zed")).await.status, 201);
    let r = app.post("/v1.0/users", &t, new_user("ZED", "Zed again")).await;
    assert_graph_error(&r, 400, "Request_BadRequest");
    assert_eq!(r.body["error"]["message"], "Another object with the same value for property userPrincipalName already exists.");
    // A user created through REST is there for Graph, and the other way round (one directory).
    app.create_user(&c.admin, &c.tid, "restuser").await;
    assert_eq!(app.get("/v1.0/users/restuser@contoso.onatrium.local", &t).await.status, 200);
    // Protected objects: the owner is not in this tenant; a session admin cannot delete itself.
    let admin_id = app.get("/v1.0/me", &c.admin).await.ok()["id"].as_str().unwrap().to_owned();
    assert_graph_error(&app.delete(&format!("/v1.0/users/{admin_id}"), &c.admin).await, 409, "Request_BadRequest");
    // Another tenant's users do not exist here.
    let (_, other_admin) = app.tenant_with_admin(&c.owner, "fabrikam").await;
    let other_id = app.get("/v1.0/me", &other_admin).await.ok()["id"].as_str().unwrap().to_owned();
    assert_graph_error(&app.get(&format!("/v1.0/users/{other_id}"), &t).await, 404, "Request_ResourceNotFound");
    // R5: a directory-synced tenant refuses creating users through Graph too.
    app.post(&format!("/api/v1/tenants/{}/provisioning/tokens", c.tid), &c.admin, json!({"name": "Entra"})).await.ok();
    let r = app.post("/v1.0/users", &t, new_user("yan", "Yan")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["error"]["innerError"]["code"], "directory_sync_enabled");
}

async fn graph_user_queries_filter_select_search_count(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Query", &["User.ReadWrite.All"]).await;
    for (alias, name) in [("adele", "Adele Vance"), ("alex", "Alex Wilber"), ("megan", "Megan Bowen"), ("diego", "Diego Siciliani")] {
        assert_eq!(app.post("/v1.0/users", &t, new_user(alias, name)).await.status, 201);
    }
    let id_of = |v: &Value| v["value"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap().split('@').next().unwrap().to_owned()).collect::<BTreeSet<_>>();
    let set = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
    // $filter, percent-encoded as the SDKs send it.
    let r = app.get("/v1.0/users?$filter=startswith%28displayName%2C%27A%27%29", &t).await;
    assert_eq!(id_of(r.ok()), set(&["adele", "alex", "admin"]));
    let r = app.get("/v1.0/users?$filter=userPrincipalName eq 'megan@contoso.onatrium.local' or displayName eq 'diego siciliani'", &t).await;
    assert_eq!(id_of(r.ok()), set(&["megan", "diego"]));
    let r = app.get("/v1.0/users?$filter=accountEnabled eq true and not startswith(displayName,'A')", &t).await;
    assert_eq!(id_of(r.ok()), set(&["megan", "diego"]));
    let r = app.get("/v1.0/users?$filter=userType eq 'Member' and userPrincipalName in ('adele@contoso.onatrium.local','alex@contoso.onatrium.local')", &t).await;
    assert_eq!(id_of(r.ok()), set(&["adele", "alex"]));
    let r = app.get("/v1.0/users?$filter=mail eq null and displayName ne 'Alex Wilber' and startswith(userPrincipalName,'a')", &t).await;
    assert_eq!(id_of(r.ok()), set(&["adele", "admin"]));
    // $select: only those properties; the context says so.
    let r = app.get("/v1.0/users?$select=id,displayName&$filter=displayName eq 'Megan Bowen'", &t).await;
    let u = r.ok()["value"][0].as_object().unwrap().clone();
    assert_eq!(u.keys().cloned().collect::<BTreeSet<_>>(), set(&["id", "displayName"]));
    assert_eq!(r.body["@odata.context"], format!("{}/v1.0/$metadata#users(id,displayName)", app.base));
    // $orderby=displayName, both ways.
    let names = |v: &Value| v["value"].as_array().unwrap().iter().map(|u| u["displayName"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let asc = names(app.get("/v1.0/users?$orderby=displayName", &t).await.ok());
    let mut sorted = asc.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(asc, sorted);
    let desc = names(app.get("/v1.0/users?$orderby=displayName%20desc", &t).await.ok());
    assert_eq!(desc, asc.iter().rev().cloned().collect::<Vec<_>>());
    // $search and $count need ConsistencyLevel: eventual.
    let r = app.get("/v1.0/users?$search=%22displayName%3Awil%22", &t).await;
    assert_graph_error(&r, 400, "Request_UnsupportedQuery");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("ConsistencyLevel: eventual"));
    assert_graph_error(&app.get("/v1.0/users?$count=true", &t).await, 400, "Request_UnsupportedQuery");
    let eventual = |path: &str| {
        let req = app.client.get(format!("{}{path}", app.base)).bearer_auth(&t).header("ConsistencyLevel", "eventual");
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Token search: a word of the name starts with the value.
    let r = eventual("/v1.0/users?$search=%22displayName%3Awil%22&$count=true").await;
    assert_eq!(id_of(&r), set(&["alex"]));
    assert_eq!(r["@odata.count"], 1);
    let r = eventual("/v1.0/users?$search=%22displayName%3Amegan%22%20OR%20%22displayName%3Adiego%22").await;
    assert_eq!(id_of(&r), set(&["megan", "diego"]));
    let r = eventual("/v1.0/users?$count=true&$top=2&$filter=startswith(displayName,'A')").await;
    assert_eq!((r["@odata.count"].as_u64(), r["value"].as_array().unwrap().len()), (Some(3), 2), "{r}");
    // Unsupported options, operators and properties are 400 Request_UnsupportedQuery naming them, never ignored.
    for (q, target) in [
        ("$expand=manager", "$expand"),
        ("$skip=2", "$skip"),
        ("$top=1000", "$top"),
        ("$top=0", "$top"),
        ("$select=password", "$select"),
        ("$filter=contains(displayName,'a')", "$filter"),
        ("$filter=displayName has 'a'", "$filter"),
        ("$filter=userName eq 'adele'", "$filter"),
        ("$filter=assignedLicenses/any(x:x/skuId eq 'x')", "$filter"),
        ("$orderby=createdDateTime", "$orderby"),
        ("$format=json", "$format"),
        ("filter=mail eq 'x'&colour=blue", "colour"),
    ] {
        let r = app.get(&format!("/v1.0/users?{q}"), &t).await;
        assert_graph_error(&r, 400, "Request_UnsupportedQuery");
        assert_eq!(r.body["error"]["target"], target, "{q}: {}", r.body);
    }
    // Options where they do not apply are refused too.
    assert_graph_error(&app.get("/v1.0/users/adele@contoso.onatrium.local?$top=1", &t).await, 400, "Request_UnsupportedQuery");
}

async fn graph_users_page_with_next_link(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Pager", &["User.ReadWrite.All"]).await;
    for i in 0..11 {
        let alias = format!("p{i:02}");
        assert_eq!(app.post("/v1.0/users", &t, new_user(&alias, &format!("Pager {i:02}"))).await.status, 201);
    }
    // Follow @odata.nextLink as given until it is absent: every match once, in order.
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/v1.0/users?$top=4&$filter=startswith(displayName,'Pager')&$select=id,displayName", app.base));
    let mut pages = 0;
    while let Some(url) = next {
        let r = app.client.get(&url).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let page = body["value"].as_array().unwrap();
        assert!(page.len() <= 4 && !page.is_empty());
        assert!(page.iter().all(|u| u.as_object().unwrap().len() == 2), "the $select carries over: {body}");
        seen.extend(page.iter().map(|u| u["displayName"].as_str().unwrap().to_owned()));
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(n) = &next {
            assert!(n.starts_with(&format!("{}/v1.0/users?", app.base)) && n.contains("%24skiptoken="), "{n}");
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..11).map(|i| format!("Pager {i:02}")).collect::<Vec<_>>());
    // Default page: 100, no nextLink for fewer.
    let r = app.get("/v1.0/users", &t).await;
    assert!(r.ok().get("@odata.nextLink").is_none() && r.body["value"].as_array().unwrap().len() == 12);
    // A skiptoken that is not ours is a 400.
    let r = app.request(Method::GET, "/v1.0/users?$skiptoken=%%%", Some(&t), None).await;
    assert_eq!(r.status, 400, "{}", r.body);
}
