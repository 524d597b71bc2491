//! Issue 16: throttling beyond client secrets: failed sign-ins per source address (REST, console,
//! authorize page, ROPC, tenant association), SCIM writes per provisioning token, Graph writes
//! per caller. Each refusal is a 429 with Retry-After in its interface's shape, counted by
//! `atrium_throttled_requests_total{scope}`; the counters are shared by nodes on one database.

use crate::helpers::*;
use crate::ops::{sample, scrape};
use atrium_core::ids::TenantId;
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::NewProvisioningToken;
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use serde_json::{Value, json};

/// Small limits, and the metrics listener on.
fn small_limits(c: &mut atrium_server::Config) {
    c.throttle_sign_in_per_address = 4;
    c.throttle_scim_writes_per_token = 3;
    c.throttle_graph_writes_per_token = 2;
    c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
}

api_tests_with!(
    small_limits;
    failed_sign_ins_are_throttled_per_address_on_every_path,
    concurrent_wrong_sign_ins_from_one_address_evaluate_at_most_the_limit,
    scim_writes_are_throttled_per_token,
    graph_writes_are_throttled_per_caller,
);

const TENANT: &str = "contoso.onatrium.local";
const RIGHT: &str = "Us3r-Passw0rd!";

fn throttled_metric(m: &str, scope: &str) -> f64 {
    sample(m, &format!("atrium_throttled_requests_total{{scope=\"{scope}\"}}"))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers.get("retry-after").expect("a 429 says when to try again").to_str().unwrap().parse().unwrap()
}

/// The tenant `contoso` with the users adele and alex, and a public client for ROPC and the
/// authorize page; returns (tenant id, admin token, client id, owner token). Setting it up
/// signs in with right passwords only, which never count.
async fn contoso(app: &TestApp) -> (String, String, String, String) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    app.create_user(&admin, &tid, "alex").await;
    let a = app
        .post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Cli", "publicClient": true, "replyUrls": ["https://cli.contoso.com/cb"]}))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    (tid, admin, a.body["appId"].as_str().unwrap().to_owned(), owner)
}

async fn ropc(app: &TestApp, tid: &str, cid: &str, user: &str, password: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let form = [("grant_type", "password"), ("client_id", cid), ("username", user), ("password", password), ("scope", "User.Read")];
    let r = app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(&form).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.json().await.unwrap(), headers)
}

async fn console_sign_in(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    let form = form_urlencoded::Serializer::new(String::new()).extend_pairs([("tenant", TENANT), ("username", user), ("password", password)]).finish();
    app.no_redirect
        .post(format!("{}/sign-in", app.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ORIGIN, app.base.as_str())
        .body(form)
        .send()
        .await
        .unwrap()
}

async fn authorize_sign_in(app: &TestApp, tid: &str, cid: &str, user: &str, password: &str) -> reqwest::Response {
    let form = [("client_id", cid), ("response_type", "code"), ("redirect_uri", "https://cli.contoso.com/cb"), ("scope", "User.Read openid"), ("username", user), ("password", password)];
    app.no_redirect.post(format!("{}/{tid}/oauth2/v2.0/authorize", app.base)).form(&form).send().await.unwrap()
}

async fn failed_sign_ins_are_throttled_per_address_on_every_path(app: TestApp) {
    let (tid, admin, cid, owner) = contoso(&app).await;
    // Four failures from this address, on four paths and for three names (the per-user lock,
    // 3, is not reached by anyone): the limit is 4 a window.
    app.sign_in(TENANT, "adele", "Wr0ng-1-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    assert_eq!(console_sign_in(&app, "alex", "Wr0ng-2-Passw0rd!").await.status(), 401);
    assert_eq!(authorize_sign_in(&app, &tid, &cid, "nobody", "Wr0ng-3-Passw0rd!").await.status(), 401);
    // Right passwords in between never count, and are not refused below the limit.
    for _ in 0..3 {
        assert_eq!(app.sign_in(TENANT, "alex", RIGHT).await.status, 200);
    }
    let r = ropc(&app, &tid, &cid, "adele@contoso.onatrium.local", "Wr0ng-4-Passw0rd!").await;
    assert_eq!((r.0, r.1["error_codes"][0].as_u64()), (400, Some(50126)), "{}", r.1);

    // The fifth failure is refused on every path, and so is the right password.
    let r = app.sign_in(TENANT, "adele", "Wr0ng-5-Passw0rd!").await;
    r.assert_error(429, "throttled", None);
    let wait = retry_after(&r.headers);
    assert!((1..=60).contains(&wait), "{wait}");
    app.sign_in(TENANT, "alex", RIGHT).await.assert_error(429, "throttled", None);
    let c = console_sign_in(&app, "alex", RIGHT).await;
    assert_eq!(c.status(), 429);
    assert!(retry_after(c.headers()) >= 1);
    let html = c.text().await.unwrap();
    assert!(html.contains("Too many requests"), "{html}");
    let a = authorize_sign_in(&app, &tid, &cid, "alex", RIGHT).await;
    assert_eq!(a.status(), 429);
    assert!(retry_after(a.headers()) >= 1 && a.headers().get("location").is_none());
    assert!(a.text().await.unwrap().contains("AADSTS90055"));
    let r = ropc(&app, &tid, &cid, "alex@contoso.onatrium.local", RIGHT).await;
    assert_eq!((r.0, r.1["error"].as_str(), r.1["error_codes"][0].as_u64()), (429, Some("temporarily_unavailable"), Some(90055)), "{}", r.1);
    assert!(retry_after(&r.2) >= 1);
    // The sign-in of a tenant association is a sign-in from this address too.
    let acc = crate::accounts::create_account(&app, &owner, "Contoso Games").await;
    let r = app.post(&format!("/api/v1/accounts/{acc}/tenants/associations"), &owner, json!({"tenant": tid, "username": "alex", "password": RIGHT})).await;
    r.assert_error(429, "throttled", None);
    assert!(retry_after(&r.headers) >= 1);
    // The per-user lock was not touched by the refusals: nobody got locked.
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.sign_in.failed").count(), 3, "only the 3 wrong passwords of real users were checked: {actions:?}");

    let m = scrape(&app).await;
    assert_eq!(throttled_metric(&m, "sign_in_address"), 6.0, "{m}");
    assert_eq!(throttled_metric(&m, "client_auth_client"), 0.0);

    // After the window, the right password signs in at once.
    app.clock.advance_seconds(i64::try_from(wait).unwrap());
    assert_eq!(app.sign_in(TENANT, "alex", RIGHT).await.status, 200);
    let r = ropc(&app, &tid, &cid, "adele@contoso.onatrium.local", RIGHT).await;
    assert_eq!(r.0, 200, "{}", r.1);
}

/// 20 wrong passwords at once from one address, for 20 names: exactly the limit (4) is
/// evaluated, the rest are refused before any password is checked.
async fn concurrent_wrong_sign_ins_from_one_address_evaluate_at_most_the_limit(app: TestApp) {
    let (tid, admin, _, _) = contoso(&app).await;
    for i in 0..20 {
        app.create_user(&admin, &tid, &format!("user{i}")).await;
    }
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/sign-in", app.base));
            tokio::spawn(async move {
                let body = json!({"tenant": TENANT, "username": format!("user{i}"), "password": "Wr0ng-Passw0rd!"});
                let r = client.post(url).json(&body).send().await.unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    let (mut wrong, mut throttled) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (401, c) if c == "invalid_credentials" => wrong += 1,
            (429, c) if c == "throttled" => throttled += 1,
            other => panic!("unexpected reply {other:?}"),
        }
    }
    assert_eq!((wrong, throttled), (4, 16));
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.sign_in.failed").count(), 4, "4 passwords were checked");
    assert_eq!(throttled_metric(&scrape(&app).await, "sign_in_address"), 16.0);
}

/// A provisioning token of a new tenant `prefix`.
async fn provisioning_token(app: &TestApp, owner: &str, prefix: &str) -> String {
    let (tid, admin) = app.tenant_with_admin(owner, prefix).await;
    let actor = app.services.authenticate_bearer(&Secret::new(admin)).await.unwrap();
    let tid = TenantId::parse(&tid, "id").unwrap();
    let created = app.services.create_provisioning_token(&actor, tid, NewProvisioningToken { name: "Entra provisioning".into(), valid_days: Some(30) }).await.unwrap();
    created.value.expose().to_owned()
}

async fn scim(app: &TestApp, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Res {
    let mut req = app.client.request(method, format!("{}/scim/v2{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.header(CONTENT_TYPE, "application/scim+json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.bytes().await.unwrap();
    Res { status, body: if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() }, headers }
}

fn scim_user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("{name}@fabrikam.com"), "active": true,
           "name": {"givenName": name, "familyName": "Lee"}, "displayName": format!("{name} Lee")})
}

async fn scim_writes_are_throttled_per_token(app: TestApp) {
    use reqwest::Method;
    let owner = app.owner().await;
    let token = provisioning_token(&app, &owner, "fabrikam").await;
    // Three writes of any kind: the limit is 3 a window per token.
    let r = scim(&app, &token, Method::POST, "/Users", Some(scim_user("ann"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Ann L."}]});
    assert_eq!(scim(&app, &token, Method::PATCH, &format!("/Users/{id}"), Some(patch.clone())).await.status, 200);
    assert_eq!(scim(&app, &token, Method::POST, "/Users", Some(scim_user("bob"))).await.status, 201);
    // Reads (a search is a POST that reads) are not writes.
    assert_eq!(scim(&app, &token, Method::GET, &format!("/Users/{id}"), None).await.status, 200);
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"ann@fabrikam.com\""});
    assert_eq!(scim(&app, &token, Method::POST, "/Users/.search", Some(search)).await.status, 200);

    // The fourth write: SCIM's error shape (RFC 7644 §3.12) with Retry-After; nothing written.
    let r = scim(&app, &token, Method::POST, "/Users", Some(scim_user("cy"))).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(r.body["status"], "429");
    assert!(r.body["detail"].as_str().unwrap().contains("Too many requests"), "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/scim+json");
    let wait = retry_after(&r.headers);
    assert_eq!(scim(&app, &token, Method::DELETE, &format!("/Users/{id}"), None).await.status, 429);
    let list = scim(&app, &token, Method::GET, "/Users?filter=userName%20eq%20%22cy%40fabrikam.com%22", None).await;
    assert_eq!(list.body["totalResults"], 0, "the refused write wrote nothing");
    // Another token has its own count.
    let other = provisioning_token(&app, &owner, "northwind").await;
    assert_eq!(scim(&app, &other, Method::POST, "/Users", Some(scim_user("dee"))).await.status, 201);
    assert_eq!(throttled_metric(&scrape(&app).await, "scim_writes_token"), 2.0);
    // The next window takes writes again.
    app.clock.advance_seconds(i64::try_from(wait).unwrap());
    assert_eq!(scim(&app, &token, Method::PATCH, &format!("/Users/{id}"), Some(patch)).await.status, 200);
}

async fn graph_writes_are_throttled_per_caller(app: TestApp) {
    let owner = app.owner().await;
    let (_, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let invite = |n: u32| json!({"invitedUserEmailAddress": format!("guest{n}@example.com"), "inviteRedirectUrl": "https://myapps.example.com"});
    // The limit is 2 writes a window per caller.
    for n in 0..2 {
        let r = app.post("/v1.0/invitations", &admin, invite(n)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.post("/v1.0/invitations", &admin, invite(2)).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "TooManyRequests");
    assert_eq!(r.body["error"]["innerError"]["code"], "throttled");
    let wait = retry_after(&r.headers);
    // Another caller (another session) has its own count.
    let other = app.token(TENANT, "admin", "Adm1n-Passw0rd!").await;
    assert_eq!(app.post("/v1.0/invitations", &other, invite(3)).await.status, 201);
    assert_eq!(throttled_metric(&scrape(&app).await, "graph_writes_token"), 1.0);
    app.clock.advance_seconds(i64::try_from(wait).unwrap());
    assert_eq!(app.post("/v1.0/invitations", &admin, invite(4)).await.status, 201);

    // Every Graph write counts in the same window, not only invitations; reads do not.
    let user = json!({"accountEnabled": true, "displayName": "Megan Bowen", "mailNickname": "megan",
                      "userPrincipalName": "megan@contoso.onatrium.local", "passwordProfile": {"password": "Us3r-Passw0rd!"}});
    let r = app.post("/v1.0/users", &admin, user).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/v1.0/users/{id}"), &admin).await.status, 200, "reads are not counted");
    }
    let by_ids = app.post("/v1.0/directoryObjects/getByIds", &admin, json!({"ids": [id]})).await;
    assert_eq!(by_ids.status, 200, "getByIds reads: {}", by_ids.body);
    let r = app.patch(&format!("/v1.0/users/{id}"), &admin, json!({"jobTitle": "Analyst"})).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "TooManyRequests");
    retry_after(&r.headers);
    assert_eq!(throttled_metric(&scrape(&app).await, "graph_writes_token"), 2.0);
}

/// Two nodes on one PostgreSQL database share the per-address count of failed sign-ins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_sign_in_throttling() {
    let a = spawn_app_with(atrium_store::testing::Backend::Postgres, small_limits).await;
    let b = a.second_node().await;
    contoso(&a).await;
    for (i, node) in [&a, &b, &a, &b].into_iter().enumerate() {
        node.sign_in(TENANT, &format!("nobody{i}"), "Wr0ng-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    }
    for node in [&b, &a] {
        node.sign_in(TENANT, "alex", RIGHT).await.assert_error(429, "throttled", None);
    }
}
