use crate::helpers::{OWNER_PASSWORD, TestApp};
use reqwest::Method;
use serde_json::json;

api_tests!(
    owner_must_change_the_one_time_password_first,
    owner_is_bootstrapped_once,
    lockout_after_failures_holds_and_expires,
    sign_out_and_expiry_end_sessions,
    cookie_sessions_refuse_cross_site_writes,
    disabled_users_cannot_sign_in_and_lose_their_sessions,
    unknown_tenants_and_users,
);

async fn owner_must_change_the_one_time_password_first(app: TestApp) {
    let r = app.sign_in("personal.onatrium.local", &app.owner_upn, &app.owner_one_time_password).await;
    assert_eq!(r.ok()["mustChangePassword"], true);
    let token = r.body["token"].as_str().unwrap().to_owned();
    app.get("/api/v1/tenants", &token).await.assert_error(403, "password_change_required", None);
    // Reading who you are is allowed, so clients can show the prompt.
    assert_eq!(app.get("/api/v1/me", &token).await.ok()["user"]["mustChangePassword"], true);

    let pw = |cur: &str, new: &str| json!({"currentPassword": cur, "newPassword": new});
    app.post("/api/v1/me/password", &token, pw("wrong", OWNER_PASSWORD)).await.assert_error(401, "invalid_credentials", Some("currentPassword"));
    app.post("/api/v1/me/password", &token, pw(&app.owner_one_time_password, "short")).await.assert_error(400, "weak_password", Some("newPassword"));
    let r = app.post("/api/v1/me/password", &token, pw(&app.owner_one_time_password, OWNER_PASSWORD)).await;
    assert_eq!(r.status, 204);

    assert_eq!(app.get("/api/v1/tenants", &token).await.status, 200);
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.ok()["instanceAdmin"], true);
    assert_eq!(me.body["tenant"]["id"], "9188040d-6c67-4c5b-b112-36a304b66dad");
    app.sign_in("personal.onatrium.local", &app.owner_upn, &app.owner_one_time_password).await.assert_error(401, "invalid_credentials", None);
    app.sign_in("personal.onatrium.local", "owner", OWNER_PASSWORD).await.ok();
}

async fn owner_is_bootstrapped_once(app: TestApp) {
    // A second start on the same database creates no owner and prints no credentials.
    let again = atrium_server::Application::build(app.config.clone(), atrium_server::Deps::default()).await.unwrap();
    assert!(again.owner.is_none());
    let owner = app.owner().await;
    let users = app.get("/api/v1/tenants/9188040d-6c67-4c5b-b112-36a304b66dad/users", &owner).await;
    assert_eq!(users.ok()["items"].as_array().unwrap().len(), 1);
}

async fn lockout_after_failures_holds_and_expires(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    for _ in 0..3 {
        app.sign_in("contoso.onatrium.local", "adele", "Wr0ng-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    }
    // Locked: even the right password is refused, on every node, because the counter is in the database.
    app.sign_in("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await.assert_error(403, "account_locked", None);
    app.clock.advance_seconds(601);
    let r = app.sign_in("contoso.onatrium.local", "adele@contoso.onatrium.local", "Us3r-Passw0rd!").await;
    assert_eq!(r.ok()["user"]["userPrincipalName"], "adele@contoso.onatrium.local");
    let u = app.get(&format!("/api/v1/tenants/{tid}/users/adele"), &admin).await;
    assert!(u.ok()["lastSignIn"].is_string());
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.sign_in.failed").count(), 3);
}

async fn sign_out_and_expiry_end_sessions(app: TestApp) {
    let owner = app.owner().await;
    let (_, admin) = app.tenant_with_admin(&owner, "contoso").await;
    assert_eq!(app.get("/api/v1/me", &admin).await.status, 200);
    assert_eq!(app.post("/api/v1/sign-out", &admin, json!({})).await.status, 204);
    let r = app.get("/api/v1/me", &admin).await;
    r.assert_error(401, "unauthenticated", None);
    assert_eq!(r.headers["www-authenticate"], "Bearer");

    let t = app.token("contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    app.clock.advance_seconds(3601);
    app.get("/api/v1/me", &t).await.assert_error(401, "unauthenticated", None);
    app.request(Method::GET, "/api/v1/me", Some("not-a-token"), None).await.assert_error(401, "unauthenticated", None);
    app.request(Method::GET, "/api/v1/me", None, None).await.assert_error(401, "unauthenticated", None);
}

async fn cookie_sessions_refuse_cross_site_writes(app: TestApp) {
    let owner_token = app.owner().await;
    let r = app.sign_in("personal.onatrium.local", "owner", OWNER_PASSWORD).await;
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me = app.client.get(format!("{}/api/v1/me", app.base)).header("cookie", &pair).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let body = json!({"displayName": "X", "domainPrefix": "evil"});
    let cross = app
        .client
        .post(format!("{}/api/v1/tenants", app.base))
        .header("cookie", &pair)
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let same = app
        .client
        .post(format!("{}/api/v1/tenants", app.base))
        .header("cookie", &pair)
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 201);
    let list = app.get("/api/v1/tenants?search=evil", &owner_token).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1, "only the same-origin write happened");
}

async fn disabled_users_cannot_sign_in_and_lose_their_sessions(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let u = app.create_user(&admin, &tid, "adele").await;
    let adele = app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    let r = app.patch(&format!("/api/v1/tenants/{tid}/users/{}", u["id"].as_str().unwrap()), &admin, json!({"enabled": false})).await;
    assert_eq!(r.ok()["enabled"], false);
    app.get("/api/v1/me", &adele).await.assert_error(401, "unauthenticated", None);
    app.sign_in("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await.assert_error(403, "account_disabled", None);
    // A wrong password does not reveal that the account is disabled.
    app.sign_in("contoso.onatrium.local", "adele", "Wr0ng-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
}

async fn unknown_tenants_and_users(app: TestApp) {
    app.sign_in("nowhere.onatrium.local", "a", "b").await.assert_error(404, "tenant_not_found", Some("tenant"));
    app.sign_in("personal.onatrium.local", "nobody", "Whatever-1").await.assert_error(401, "invalid_credentials", None);
    app.request(Method::POST, "/api/v1/sign-in", None, Some(json!({"tenant": "x"}))).await.assert_error(400, "missing_field", Some("username"));
}
