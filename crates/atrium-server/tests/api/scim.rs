//! SCIM 2.0 at /scim/v2 (and /scim): provisioning tokens, Users, Groups, PATCH in Entra's exact
//! shapes (entra-compat.md §7), ETags, discovery and SCIM errors.

use crate::helpers::{Res, TestApp};
use atrium_core::ids::{SessionId, TenantId};
use atrium_core::model::Session;
use atrium_core::ports::Clock;
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::NewProvisioningToken;
use reqwest::Method;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Scim<'a> {
    app: &'a TestApp,
    token: String,
    tid: String,
    admin: String,
}

/// A directory-synced tenant with a provisioning token.
async fn setup(app: &TestApp) -> Scim<'_> {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let actor = app.services.authenticate_bearer(&Secret::new(admin.clone())).await.unwrap();
    let created = app
        .services
        .create_provisioning_token(&actor, TenantId::parse(&tid, "id").unwrap(), NewProvisioningToken { name: "Entra provisioning".into(), valid_days: Some(30) })
        .await
        .unwrap();
    Scim { app, token: created.value.expose().to_owned(), tid, admin }
}

impl Scim<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Res {
        let mut req = self.app.client.request(method, format!("{}/scim/v2{path}", self.app.base)).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        if !body.is_null() {
            assert_eq!(headers["content-type"], "application/scim+json", "{path}");
        }
        Res { status, body, headers }
    }
    async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, None, &[]).await
    }
    async fn post(&self, path: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(body), &[]).await
    }
    async fn patch(&self, path: &str, ops: Value) -> Res {
        self.call(Method::PATCH, path, Some(json!({"schemas": [PATCH_OP], "Operations": ops})), &[]).await
    }
    async fn user(&self, user_name: &str) -> Value {
        let r = self
            .post(
                "/Users",
                json!({"schemas": [USER, ENTERPRISE], "externalId": format!("ext-{user_name}"), "userName": user_name, "active": true,
                       "emails": [{"primary": true, "type": "work", "value": user_name}],
                       "name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"}, "displayName": "Ann Lee",
                       "meta": {"resourceType": "User"}, "roles": [],
                       ENTERPRISE: {"employeeNumber": "42", "department": "Sales"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }
}

#[track_caller]
fn assert_scim_error(r: &Res, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{}", r.body);
    assert_eq!(r.body["status"], status.to_string(), "status is a string: {}", r.body);
    match scim_type {
        Some(t) => assert_eq!(r.body["scimType"], t, "{}", r.body),
        None => assert!(r.body.get("scimType").is_none(), "{}", r.body),
    }
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

async fn auth(app: TestApp) {
    let s = setup(&app).await;
    let url = format!("{}/scim/v2/Users", app.base);
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "401");
    for bad in ["atscim_wrong", "not-a-token", s.admin.as_str()] {
        assert_eq!(app.client.get(&url).bearer_auth(bad).send().await.unwrap().status(), 401, "{bad}");
    }
    assert_eq!(s.get("/Users").await.status, 200);
    // Also at /scim, which Entra accepts too.
    assert_eq!(app.client.get(format!("{}/scim/Users", app.base)).bearer_auth(&s.token).send().await.unwrap().status(), 200);
    // Expired.
    app.clock.advance_seconds(31 * 86_400);
    assert_scim_error(&s.get("/Users").await, 401, None);
    app.clock.advance_seconds(-31 * 86_400);
    assert_eq!(s.get("/Users").await.status, 200);
    // Revoked.
    let actor = app.services.authenticate_bearer(&Secret::new(s.admin.clone())).await.unwrap();
    let tid = TenantId::parse(&s.tid, "id").unwrap();
    let tokens = app.services.list_provisioning_tokens(&actor, tid).await.unwrap();
    app.services.revoke_provisioning_token(&actor, tid, tokens[0].id).await.unwrap();
    assert_scim_error(&s.get("/Users").await, 401, None);
}

async fn users_lifecycle(app: TestApp) {
    let s = setup(&app).await;
    let u = s.user("ann.lee@contoso.com").await;
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(u["userName"], "ann.lee@contoso.com");
    assert_eq!(u["active"], true);
    assert_eq!(u["emails"][0]["type"], "work");
    assert_eq!(u[ENTERPRISE]["department"], "Sales");
    assert_eq!(u["meta"]["resourceType"], "User");
    assert!(u["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    let version = u["meta"]["version"].as_str().unwrap().to_owned();
    assert!(version.starts_with("W/\""), "{version}");

    let r = s.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["etag"], version.as_str());
    assert_eq!(r.body["name"]["givenName"], "Ann");

    // userName is unique case-insensitively.
    let r = s.post("/Users", json!({"schemas": [USER], "userName": "ANN.LEE@contoso.com"})).await;
    assert_scim_error(&r, 409, Some("uniqueness"));

    // Entra's connection test: an unknown userName is an empty list, not a 404.
    let r = s.get("/Users?filter=userName%20eq%20%22nobody-4711%22").await;
    assert_eq!(
        r.body,
        json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0})
    );
    let r = s.get("/Users?filter=userName%20eq%20%22Ann.Lee@contoso.com%22").await;
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["id"], id.as_str());
    let r = s.get("/Users?filter=externalId%20eq%20%22ext-ann.lee@contoso.com%22").await;
    assert_eq!(r.body["totalResults"], 1);

    // Paging: startIndex is 1-based, count=0 gives the total only.
    s.user("bob@contoso.com").await;
    s.user("cy@contoso.com").await;
    let r = s.get("/Users?startIndex=2&count=1").await;
    assert_eq!((r.body["totalResults"].as_u64(), r.body["itemsPerPage"].as_u64(), r.body["startIndex"].as_u64()), (Some(3), Some(1), Some(2)));
    assert_eq!(r.body["Resources"][0]["userName"], "bob@contoso.com");
    let r = s.get("/Users?count=0").await;
    assert_eq!((r.body["totalResults"].as_u64(), r.body["Resources"].as_array().unwrap().len()), (Some(3), 0));
    let r = s.get("/Users?startIndex=0&count=500").await;
    assert_eq!(r.body["Resources"].as_array().unwrap().len(), 3);

    // attributes / excludedAttributes; id, schemas and meta always come back.
    let r = s.get(&format!("/Users/{id}?attributes=userName,name.familyName")).await;
    let keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(r.body["name"], json!({"familyName": "Lee"}));
    let r = s.get(&format!("/Users/{id}?excludedAttributes=emails,{ENTERPRISE}:department")).await;
    assert!(r.body.get("emails").is_none() && r.body[ENTERPRISE].get("department").is_none() && r.body["id"] == id.as_str(), "{}", r.body);

    // PUT replaces the whole user: what it leaves out is gone.
    let r = s.call(Method::PUT, &format!("/Users/{id}"), Some(json!({"schemas": [USER], "userName": "ann.lee@contoso.com", "displayName": "Ann L.", "title": "CFO"})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["displayName"].as_str(), r.body["title"].as_str()), (Some("Ann L."), Some("CFO")));
    assert!(r.body.get("emails").is_none() && r.body.get(ENTERPRISE).is_none() && r.body.get("active").is_none(), "{}", r.body);

    // DELETE, then 404.
    let r = s.call(Method::DELETE, &format!("/Users/{id}"), None, &[]).await;
    assert_eq!(r.status, 204);
    assert_scim_error(&s.get(&format!("/Users/{id}")).await, 404, None);
    assert_scim_error(&s.call(Method::DELETE, &format!("/Users/{id}"), None, &[]).await, 404, None);
    assert_scim_error(&s.get("/Users/not-an-id").await, 404, None);
    assert!(app.audit_actions(&s.admin, &s.tid).await.contains(&"user.provision.delete".to_owned()));
}

async fn patch_users_as_entra_sends(app: TestApp) {
    let s = setup(&app).await;
    let manager = s.user("boss@contoso.com").await;
    let u = s.user("ann@contoso.com").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let r = s
        .patch(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.new@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "Leigh"},
                {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": manager["id"]},
                {"op": "replace", "path": "active", "value": "False"},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "PATCH answers with the resource: {}", r.body);
    assert_eq!(r.body["emails"], json!([{"value": "ann.new@contoso.com", "type": "work", "primary": true}]));
    assert_eq!(r.body["name"]["familyName"], "Leigh");
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], manager["id"]);
    // Graph reads the manager the source set (issue 13).
    let m = app.get(&format!("/v1.0/users/{}/manager", u["id"].as_str().unwrap()), &s.admin).await;
    assert_eq!((m.status.as_u16(), m.body["id"].as_str(), m.body["@odata.type"].as_str()), (200, manager["id"].as_str(), Some("#microsoft.graph.user")), "{}", m.body);
    // Path-less replace with an object, URN-prefixed keys among them.
    let r = s
        .patch(&path, json!([{"op": "replace", "value": {"displayName": "Ann Leigh", "active": "True", format!("{ENTERPRISE}:department"): "Finance", "name.givenName": "Anne"}}]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["displayName"].as_str(), r.body["active"].as_bool()), (Some("Ann Leigh"), Some(true)));
    assert_eq!((r.body[ENTERPRISE]["department"].as_str(), r.body["name"]["givenName"].as_str()), (Some("Finance"), Some("Anne")));
    // A work address where there is none is added.
    let r = s.patch(&path, json!([{"op": "Remove", "path": "emails"}, {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@contoso.com"}])).await;
    assert_eq!(r.body["emails"], json!([{"value": "w@contoso.com", "type": "work", "primary": false}]));
    // Remove an extension attribute by URN path.
    let r = s.patch(&path, json!([{"op": "remove", "path": format!("{ENTERPRISE}:manager")}])).await;
    assert!(r.body[ENTERPRISE].get("manager").is_none(), "{}", r.body);
    // Errors: readOnly, no path on remove, bad op, bad value.
    assert_scim_error(&s.patch(&path, json!([{"op": "replace", "path": "id", "value": "x"}])).await, 400, Some("mutability"));
    assert_scim_error(&s.patch(&path, json!([{"op": "remove"}])).await, 400, Some("noTarget"));
    assert_scim_error(&s.patch(&path, json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@x.com"}}])).await, 400, Some("noTarget"));
    assert_scim_error(&s.patch(&path, json!([{"op": "frobnicate", "path": "title", "value": "x"}])).await, 400, Some("invalidSyntax"));
    assert_scim_error(&s.patch(&path, json!([{"op": "replace", "path": "active", "value": "maybe"}])).await, 400, Some("invalidValue"));
    assert_scim_error(&s.patch(&path, json!([{"op": "replace", "path": "userName", "value": "boss@contoso.com"}])).await, 409, Some("uniqueness"));
    let r = s.call(Method::PATCH, &path, None, &[("content-type", "application/json")]).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    assert_scim_error(&s.patch("/Users/00000000-0000-0000-0000-000000000001", json!([{"op": "replace", "path": "title", "value": "x"}])).await, 404, None);
}

async fn if_match(app: TestApp) {
    let s = setup(&app).await;
    let u = s.user("ann@contoso.com").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let v1 = u["meta"]["version"].as_str().unwrap().to_owned();
    let ops = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "CEO"}]});
    let r = s.call(Method::PATCH, &path, Some(ops.clone()), &[("if-match", &v1)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v2 = r.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    // The old version no longer matches: PATCH, PUT and DELETE are refused.
    assert_scim_error(&s.call(Method::PATCH, &path, Some(ops), &[("if-match", &v1)]).await, 412, None);
    assert_scim_error(&s.call(Method::PUT, &path, Some(json!({"userName": "ann@contoso.com"})), &[("if-match", &v1)]).await, 412, None);
    assert_scim_error(&s.call(Method::DELETE, &path, None, &[("if-match", &v1)]).await, 412, None);
    assert_eq!(s.get(&path).await.body["title"], "CEO");
    assert_eq!(s.call(Method::DELETE, &path, None, &[("if-match", &v2)]).await.status, 204);
}

async fn groups_and_members(app: TestApp) {
    let s = setup(&app).await;
    let a = s.user("a@contoso.com").await["id"].as_str().unwrap().to_owned();
    let b = s.user("b@contoso.com").await["id"].as_str().unwrap().to_owned();
    let c = s.user("c@contoso.com").await["id"].as_str().unwrap().to_owned();
    let r = s.post("/Groups", json!({"schemas": [GROUP], "externalId": "g-1", "displayName": "Sales", "members": []})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let path = format!("/Groups/{}", r.body["id"].as_str().unwrap());
    assert_scim_error(&s.post("/Groups", json!({"schemas": [GROUP], "displayName": "sales"})).await, 409, Some("uniqueness"));

    let ids = |r: &Res| -> Vec<String> { r.body["members"].as_array().map(|m| m.iter().map(|x| x["value"].as_str().unwrap().to_owned()).collect()).unwrap_or_default() };
    let mut want = vec![a.clone(), b.clone(), c.clone()];
    want.sort();
    // Entra's member add by a value list.
    let r = s.patch(&path, json!([{"op": "Add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": c}]}])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut got = ids(&r);
    got.sort();
    assert_eq!(got, want);
    assert_eq!(r.body["members"][0]["type"], "User");
    // Remove by a value list, and in the RFC form with a filter.
    let r = s.patch(&path, json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}])).await;
    assert!(!ids(&r).contains(&a) && ids(&r).len() == 2, "{}", r.body);
    let r = s.patch(&path, json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}])).await;
    assert_eq!(ids(&r), vec![c.clone()]);
    // Rename.
    let r = s.patch(&path, json!([{"op": "Replace", "path": "displayName", "value": "Sales EMEA"}])).await;
    assert_eq!(r.body["displayName"], "Sales EMEA");
    // Entra reads a group without its members.
    let r = s.get(&format!("{path}?excludedAttributes=members")).await;
    assert!(r.body.get("members").is_none() && r.body["displayName"] == "Sales EMEA", "{}", r.body);
    assert_eq!(ids(&s.get(&path).await), vec![c.clone()]);
    let r = s.get("/Groups?filter=displayName%20eq%20%22sales%20emea%22&excludedAttributes=members").await;
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());
    // PUT replaces the member list.
    let r = s.call(Method::PUT, &path, Some(json!({"schemas": [GROUP], "displayName": "Sales EMEA", "members": [{"value": a}]})), &[]).await;
    assert_eq!(ids(&r), vec![a.clone()]);
    // Replace members with a list, then remove them all.
    let r = s.patch(&path, json!([{"op": "replace", "path": "members", "value": [{"value": b}, {"value": c}]}])).await;
    assert_eq!(ids(&r).len(), 2);
    let r = s.patch(&path, json!([{"op": "remove", "path": "members"}])).await;
    assert!(r.body.get("members").is_none(), "{}", r.body);
    // Deleting a member user takes them out of the group.
    s.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": b}]}])).await;
    assert_eq!(s.call(Method::DELETE, &format!("/Users/{b}"), None, &[]).await.status, 204);
    assert!(s.get(&path).await.body.get("members").is_none());
    assert_eq!(s.call(Method::DELETE, &path, None, &[]).await.status, 204);
    assert_scim_error(&s.get(&path).await, 404, None);
}

async fn discovery_and_errors(app: TestApp) {
    let s = setup(&app).await;
    let r = s.get("/ServiceProviderConfig").await;
    assert_eq!((r.body["patch"]["supported"].as_bool(), r.body["bulk"]["supported"].as_bool(), r.body["etag"]["supported"].as_bool()), (Some(true), Some(false), Some(true)));
    assert_eq!(r.body["filter"]["maxResults"], 200);
    assert_eq!(r.body["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let r = s.get("/ResourceTypes").await;
    assert_eq!(r.body["totalResults"], 2);
    assert_eq!(s.get("/ResourceTypes/User").await.body["schemaExtensions"][0]["schema"], ENTERPRISE);
    let r = s.get("/Schemas").await;
    assert_eq!(r.body["totalResults"], 3);
    let user = s.get(&format!("/Schemas/{USER}")).await;
    let attrs = user.body["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!((user_name["required"].as_bool(), user_name["uniqueness"].as_str()), (Some(true), Some("server")));
    // Only what Atrium stores is published.
    assert!(attrs.iter().all(|a| !["phoneNumbers", "addresses", "roles", "password"].contains(&a["name"].as_str().unwrap())));
    let group = s.get(&format!("/Schemas/{GROUP}")).await;
    let members = group.body["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "members").unwrap().clone();
    let value = members["subAttributes"].as_array().unwrap().iter().find(|a| a["name"] == "value").unwrap().clone();
    assert_eq!(value["mutability"], "immutable");
    assert_scim_error(&s.get("/Schemas/urn:nope").await, 404, None);
    assert_scim_error(&s.get("/ResourceTypes/Nope").await, 404, None);
    assert_scim_error(&s.get("/Nope").await, 404, None);
    assert_scim_error(&s.get("/Groups/00000000-0000-0000-0000-000000000001").await, 404, None);
    assert_scim_error(&s.get("/Users?filter=userName%20zz%20%22x%22").await, 400, Some("invalidFilter"));
    assert_scim_error(&s.get("/Users?filter=nickName%20eq%20%22x%22").await, 400, Some("invalidFilter"));
    let r = s.app.client.post(format!("{}/scim/v2/Users", app.base)).bearer_auth(&s.token).header("content-type", "application/scim+json").body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["scimType"], "invalidSyntax");
    // A plain application/json body is accepted too.
    let r = s.app.client.post(format!("{}/scim/v2/Users", app.base)).bearer_auth(&s.token).json(&json!({"userName": "plain@contoso.com"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_scim_error(&s.post("/Users", json!({"schemas": [USER], "displayName": "No userName"})).await, 400, Some("invalidValue"));
}

async fn deprovisioning_ends_sessions(app: TestApp) {
    let s = setup(&app).await;
    let u = s.user("ann@contoso.com").await;
    let id = u["id"].as_str().unwrap();
    // Provisioned users sign in through their source's federation; give Ann a session directly.
    let session_token = "atrs_scim-test-session-token";
    let mut tx = app.services.store().begin().await.unwrap();
    tx.insert_session(&Session {
        id: SessionId::from_uuid(uuid::Uuid::from_u128(7)),
        token_hash: Secret::new(session_token).sha256(),
        user_id: atrium_core::ids::UserId::parse(id, "id").unwrap(),
        tenant_id: TenantId::parse(&s.tid, "id").unwrap(),
        created_at: app.clock.now(),
        expires_at: app.clock.now().plus_seconds(3600),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.get("/api/v1/me", session_token).await.status, 200);
    // Entra's deprovisioning: active "False", then back on; the session stays gone.
    let path = format!("/Users/{id}");
    assert_eq!(s.patch(&path, json!([{"op": "Replace", "path": "active", "value": "False"}])).await.body["active"], false);
    assert_eq!(app.get("/api/v1/me", session_token).await.status, 401);
    assert_eq!(s.patch(&path, json!([{"op": "Replace", "path": "active", "value": true}])).await.body["active"], true);
    assert_eq!(app.get("/api/v1/me", session_token).await.status, 401);
}

api_tests!(auth, users_lifecycle, patch_users_as_entra_sends, if_match, groups_and_members, discovery_and_errors, deprovisioning_ends_sessions);
