//! Sign-in logs: every kind of attempt is recorded with Entra's fields and failure codes, only
//! administrators read them, and they are purged after 30 days.

use crate::helpers::TestApp;
use crate::identity::{setup, token};
use serde_json::{Value, json};

api_tests!(every_kind_of_attempt_is_logged, only_administrators_read_sign_ins_and_filters_work, sign_ins_are_purged_after_30_days, the_console_shows_a_tenants_sign_ins_to_its_administrators);

const UA: &str = "signin-test/1.0 (like Gecko)";
const CORRELATION: &str = "11111111-2222-3333-4444-555555555555";

/// A sign-in through `POST /api/v1/sign-in` with a user agent.
async fn sign_in(app: &TestApp, tenant: &str, username: &str, password: &str) -> u16 {
    let r = app
        .client
        .post(format!("{}/api/v1/sign-in", app.base))
        .header("user-agent", UA)
        .json(&json!({"tenant": tenant, "username": username, "password": password}))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// The sign-ins `path` lists once at least `n` are there: they are written off the request
/// path, moments later.
pub(crate) async fn sign_ins(app: &TestApp, token: &str, path: &str, n: usize) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let r = app.get(path, token).await;
        items = r.ok()["items"].as_array().unwrap().clone();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected at least {n} sign-ins at {path}, got {}: {items:#?}", items.len());
}

fn find<'a>(items: &'a [Value], what: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    items.iter().find(|e| pred(e)).unwrap_or_else(|| panic!("no sign-in for {what} in {items:#?}"))
}

async fn every_kind_of_attempt_is_logged(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap();
    let domain = "contoso.onatrium.local";
    app.create_user(&admin, &tid, "bob").await;
    let carol = app.create_user(&admin, &tid, "carol").await;
    let bob = app.get(&format!("/api/v1/tenants/{tid}/users/bob@{domain}"), &admin).await.ok().clone();
    app.patch(&format!("/api/v1/tenants/{tid}/users/{}", bob["id"].as_str().unwrap()), &admin, json!({"enabled": false})).await.ok();

    // Directory sign-ins: a wrong password, an unknown name, a disabled and a locked account, a success.
    assert_eq!(sign_in(&app, domain, "adele", "wrong-Passw0rd!").await, 401);
    assert_eq!(sign_in(&app, domain, "ghost", "wrong-Passw0rd!").await, 401);
    assert_eq!(sign_in(&app, domain, "bob", "Us3r-Passw0rd!").await, 403);
    for _ in 0..3 {
        sign_in(&app, domain, "carol", "wrong-Passw0rd!").await;
    }
    assert_eq!(sign_in(&app, domain, "carol", "Us3r-Passw0rd!").await, 403, "carol is locked");
    assert_eq!(sign_in(&app, domain, "adele", "Us3r-Passw0rd!").await, 200);

    // The token endpoint: client credentials (right and wrong secret), ROPC, a refresh.
    let cc = |s: &str| vec![("grant_type", "client_credentials".to_owned()), ("client_id", cid.to_owned()), ("client_secret", s.to_owned()), ("scope", "api://contoso-web/.default".to_owned())];
    let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let form = as_refs(&cc(&secret));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(token(&app, &tid, &form).await.0, 200);
    // The last character changed (a fixed "x" equals it in one secret of ~64).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &secret[..secret.len() - 1]);
    let form = as_refs(&cc(&wrong));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(token(&app, &tid, &form).await.0, 401);
    let ropc = [("grant_type", "password"), ("client_id", cid), ("client_secret", secret.as_str()), ("username", "adele"), ("password", "Us3r-Passw0rd!"), ("scope", "User.Read openid offline_access")];
    let (status, body) = token(&app, &tid, &ropc).await;
    assert_eq!(status, 200, "{body}");
    let rt = body["refresh_token"].as_str().unwrap();
    let refresh = [("grant_type", "refresh_token"), ("client_id", cid), ("client_secret", secret.as_str()), ("refresh_token", rt)];
    assert_eq!(token(&app, &tid, &refresh).await.0, 200);

    // The authorize page, with a wrong password.
    let r = app
        .no_redirect
        .post(format!("{}/{tid}/oauth2/v2.0/authorize", app.base))
        .header("user-agent", UA)
        .form(&[("client_id", cid), ("response_type", "code"), ("redirect_uri", "https://web.contoso.com/cb"), ("scope", "User.Read openid"), ("username", "adele"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // 3 setup sign-ins are the admin's; then 4 + 3 + 1 + 1 directory ones, 4 token ones, 1 authorize.
    let items = sign_ins(&app, &admin, &format!("/api/v1/sign-ins?tenantId={tid}&limit=200"), 14).await;
    let text = serde_json::to_string(&items).unwrap();
    assert!(!text.contains("Us3r-Passw0rd!") && !text.contains("wrong-Passw0rd!") && !text.contains(&secret) && !text.contains(rt), "no secret is logged: {text}");
    let adele_id = app.get(&format!("/api/v1/tenants/{tid}/users/adele@{domain}"), &admin).await.ok()["id"].clone();

    let wrong_pw = find(&items, "adele's wrong password", |e| e["status"]["errorCode"] == 50126 && e["userPrincipalName"] == "adele" && e["appDisplayName"] == "Atrium");
    assert_eq!(wrong_pw["userId"], adele_id, "the typed name is resolved to the user");
    assert_eq!(wrong_pw["isInteractive"], true);
    assert_eq!(wrong_pw["clientAppUsed"], "Other clients");
    assert_eq!(wrong_pw["ipAddress"], "127.0.0.1");
    assert_eq!(wrong_pw["userAgent"], UA);
    assert_eq!(wrong_pw["mfaUsed"], false);
    assert!(wrong_pw["status"]["failureReason"].as_str().unwrap().contains("invalid username or password"));
    assert!(wrong_pw["correlationId"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(wrong_pw["createdDateTime"].as_str().unwrap().ends_with('Z'));

    let ghost = find(&items, "the unknown name", |e| e["userPrincipalName"] == "ghost");
    assert_eq!(ghost["status"]["errorCode"], 50126);
    assert!(ghost.get("userId").is_none());
    find(&items, "the disabled account", |e| e["userPrincipalName"] == "bob" && e["status"]["errorCode"] == 50057);
    let locked = find(&items, "the locked account", |e| e["userPrincipalName"] == "carol" && e["status"]["errorCode"] == 50053);
    assert_eq!(locked["userId"], carol["id"]);
    let ok = find(&items, "adele's sign-in", |e| e["userPrincipalName"] == format!("adele@{domain}") && e["status"]["errorCode"] == 0 && e["appDisplayName"] == "Atrium");
    assert_eq!(ok["userId"], adele_id);
    assert!(ok["status"].get("failureReason").is_none());

    let app_ok = find(&items, "the app's sign-in", |e| e["signInEventTypes"][0] == "servicePrincipal" && e["status"]["errorCode"] == 0);
    assert_eq!(app_ok["appId"], cid);
    assert_eq!(app_ok["appDisplayName"], "Web");
    assert_eq!(app_ok["isInteractive"], false);
    assert_eq!(app_ok["correlationId"], CORRELATION, "the client's client-request-id");
    assert!(app_ok.get("userId").is_none());
    let bad_secret = find(&items, "the wrong client secret", |e| e["status"]["errorCode"] == 7000215);
    assert_eq!(bad_secret["appId"], cid);
    assert_eq!(bad_secret["appDisplayName"], "Web", "named although the secret was wrong");
    assert!(bad_secret["status"]["failureReason"].as_str().unwrap().starts_with("Invalid client secret provided."));

    let ropc = find(&items, "the password grant", |e| e["signInEventTypes"][0] == "interactiveUser" && e["appId"] == cid && e["status"]["errorCode"] == 0);
    assert_eq!(ropc["userId"], adele_id);
    assert_eq!(ropc["clientAppUsed"], "Mobile Apps and Desktop clients");
    let refreshed = find(&items, "the refresh", |e| e["signInEventTypes"][0] == "nonInteractiveUser");
    assert_eq!(refreshed["userId"], adele_id);
    assert_eq!(refreshed["isInteractive"], false);
    assert_eq!(refreshed["status"]["errorCode"], 0);

    let authorize = find(&items, "the authorize page", |e| e["clientAppUsed"] == "Browser");
    assert_eq!(authorize["status"]["errorCode"], 50126);
    assert_eq!(authorize["appDisplayName"], "Web");
    assert_eq!(authorize["userId"], adele_id);
    assert_eq!(authorize["userAgent"], UA);
    assert_eq!(authorize["isInteractive"], true);
}

async fn only_administrators_read_sign_ins_and_filters_work(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let (other_tid, other_admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let adele = app.create_user(&admin, &tid, "adele").await;
    assert_eq!(sign_in(&app, "contoso.onatrium.local", "adele", "nope-Passw0rd!").await, 401);
    let user = app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    // contoso: the admin's sign-in, adele's failure and success.
    let all = sign_ins(&app, &admin, "/api/v1/sign-ins", 3).await;
    assert!(all.iter().all(|e| e["tenantId"] == tid.as_str()), "a tenant admin sees their tenant by default");

    app.get("/api/v1/sign-ins", &user).await.assert_error(403, "forbidden", None);
    app.get(&format!("/api/v1/sign-ins?tenantId={tid}"), &user).await.assert_error(403, "forbidden", None);
    let theirs = app.get(&format!("/api/v1/sign-ins?tenantId={tid}"), &other_admin).await;
    assert_eq!(theirs.status, 404, "another tenant's admin sees nothing of it: {}", theirs.body);
    let own = app.get("/api/v1/sign-ins", &other_admin).await;
    assert!(own.ok()["items"].as_array().unwrap().iter().all(|e| e["tenantId"] == other_tid.as_str()));
    // The instance admin sees every tenant.
    let everything = sign_ins(&app, &owner, "/api/v1/sign-ins?limit=200", 5).await;
    assert!(everything.iter().any(|e| e["tenantId"] == tid.as_str()) && everything.iter().any(|e| e["tenantId"] == other_tid.as_str()));

    let failures = app.get("/api/v1/sign-ins?status=failure", &admin).await;
    let failures = failures.ok()["items"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["userId"], adele["id"]);
    let by_user = app.get(&format!("/api/v1/sign-ins?userId={}&status=success", adele["id"].as_str().unwrap()), &admin).await;
    assert_eq!(by_user.ok()["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/sign-ins?appId=00000000-0000-0000-0000-000000000001", &admin).await.ok()["items"], json!([]));
    assert_eq!(app.get("/api/v1/sign-ins?from=2999-01-01T00:00:00Z", &admin).await.ok()["items"], json!([]));
    assert_eq!(app.get("/api/v1/sign-ins?to=2000-01-01T00:00:00Z", &admin).await.ok()["items"], json!([]));

    // Cursor pagination, newest first, without repeats.
    let mut seen = Vec::new();
    let mut path = "/api/v1/sign-ins?limit=1".to_owned();
    loop {
        let r = app.get(&path, &admin).await;
        let body = r.ok().clone();
        seen.extend(body["items"].as_array().unwrap().iter().map(|e| (e["createdDateTime"].as_str().unwrap().to_owned(), e["id"].as_str().unwrap().to_owned())));
        match body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/sign-ins?limit=1&cursor={c}"),
            None => break,
        }
    }
    let ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    let all_ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all_ids.len(), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first: {seen:?}");

    app.get("/api/v1/sign-ins?status=maybe", &admin).await.assert_error(400, "invalid_request", Some("status"));
    app.get("/api/v1/sign-ins?from=yesterday", &admin).await.assert_error(400, "invalid_request", Some("from"));
    app.get("/api/v1/sign-ins?userId=nope", &admin).await.assert_error(400, "invalid_id", Some("userId"));
    app.get("/api/v1/sign-ins?cursor=bm9wZQ", &admin).await.assert_error(400, "invalid_cursor", Some("cursor"));
    app.get("/api/v1/sign-ins?limit=0", &admin).await.assert_error(400, "invalid_limit", Some("limit"));
    app.get("/api/v1/sign-ins?password=x", &admin).await.assert_error(400, "invalid_request", None);
}

async fn sign_ins_are_purged_after_30_days(app: TestApp) {
    let owner = app.owner().await;
    let (tid, _admin) = app.tenant_with_admin(&owner, "contoso").await;
    let path = format!("/api/v1/sign-ins?tenantId={tid}");
    let old = sign_ins(&app, &owner, &path, 1).await;
    let old_id = old[0]["id"].clone();

    // 29 days on, the periodic purge keeps it.
    app.clock.advance_seconds(29 * 86_400);
    app.services.purge_sign_ins().await.unwrap();
    let owner = app.token("personal.onatrium.local", &app.owner_upn, crate::helpers::OWNER_PASSWORD).await;
    app.token("contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let items = sign_ins(&app, &owner, &path, 2).await;
    assert!(items.iter().any(|e| e["id"] == old_id), "29 days old: kept");

    // Past 30 days it is gone; the newer one stays.
    app.clock.advance_seconds(2 * 86_400);
    let n = app.services.purge_sign_ins().await.unwrap();
    assert!(n >= 1, "purged {n}");
    let owner = app.token("personal.onatrium.local", &app.owner_upn, crate::helpers::OWNER_PASSWORD).await;
    let items = app.get(&path, &owner).await.ok()["items"].as_array().unwrap().clone();
    assert!(!items.iter().any(|e| e["id"] == old_id), "over 30 days old: purged");
    assert_eq!(items.len(), 1, "the admin's sign-in of 2 days ago stays: {items:#?}");
}

/// Account settings → Tenants → "Sign-in logs": the tenant's global administrator reads the
/// attempts (a failure with its code and reason), filters by status; nobody else gets the page.
async fn the_console_shows_a_tenants_sign_ins_to_its_administrators(app: TestApp) {
    use crate::console::Browser;
    let owner = app.owner().await;
    let (acc, tid, admin) = crate::accounts::account_with_manager(&app, &owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    assert_eq!(sign_in(&app, "contoso.onatrium.local", "adele", "nope-Passw0rd!").await, 401);
    // Written in batches off the request path: wait until the failure is there.
    sign_ins(&app, &admin, "/api/v1/sign-ins?status=failure", 1).await;
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (status, html, _) = b.get(&format!("/accounts/{acc}/tenants")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("/accounts/{acc}/tenants/{tid}/sign-ins")), "the tenants page links to the logs: {html}");
    let (status, html, _) = b.get(&format!("/accounts/{acc}/tenants/{tid}/sign-ins")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Sign-in logs of contoso.onatrium.local"), "{html}");
    // The name as typed, as Entra logs it.
    assert!(html.contains(">adele<") && html.contains("Failure 50126"), "{html}");
    let (_, failures, _) = b.get(&format!("/accounts/{acc}/tenants/{tid}/sign-ins?status=failure")).await;
    assert!(failures.contains("Failure 50126") && !failures.contains("tag info\">Success<"), "{failures}");
    assert!(!html.contains("nope-Passw0rd!") && !html.contains("Adm1n-Passw0rd!"), "no password on the page");
    // A user who is not the tenant's administrator gets no logs.
    let (u, _) = Browser::sign_in(&app, "contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    let (status, html, _) = u.get(&format!("/accounts/{acc}/tenants/{tid}/sign-ins")).await;
    assert!(status == 403 || status == 404, "{status}: {html}");
    assert!(!html.contains("Failure 50126"));
}
