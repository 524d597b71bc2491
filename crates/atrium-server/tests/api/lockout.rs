//! Issue 16: lockout as one atomic step (parallel guesses cannot outrun it), lockout that does
//! not reveal which accounts exist, the password change guarded by the same counter, and
//! throttling (429 with Retry-After), on one node and on two nodes sharing one database.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

api_tests!(
    parallel_wrong_passwords_check_at_most_the_threshold,
    parallel_wrong_ropc_passwords_check_at_most_the_threshold,
    unknown_and_locked_accounts_answer_alike,
    password_change_counts_toward_lockout,
);

const TENANT: &str = "contoso.onatrium.local";
const RIGHT: &str = "Us3r-Passw0rd!";

/// The tenant `contoso` with the user `adele`; returns (tenant id, admin token).
async fn contoso(app: &TestApp) -> (String, String) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    (tid, admin)
}

/// How many wrong passwords were checked against the hash: each writes one audit event.
async fn checked_failures(app: &TestApp, admin: &str, tid: &str) -> usize {
    app.audit_actions(admin, tid).await.iter().filter(|a| *a == "user.sign_in.failed").count()
}

fn code_of(r: &Res) -> (u16, String) {
    (r.status.as_u16(), r.body["error"]["code"].as_str().unwrap_or("").to_owned())
}

async fn parallel_wrong_passwords_check_at_most_the_threshold(app: TestApp) {
    let (tid, admin) = contoso(&app).await;
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/sign-in", app.base));
            tokio::spawn(async move {
                let body = json!({"tenant": TENANT, "username": "adele", "password": format!("Wr0ng-Passw0rd-{i}!")});
                let r = client.post(url).json(&body).send().await.unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    let mut wrong = 0;
    for t in tasks {
        match t.await.unwrap() {
            (401, c) if c == "invalid_credentials" => wrong += 1,
            (403, c) if c == "account_locked" => {}
            other => panic!("unexpected reply {other:?}"),
        }
    }
    // The threshold is 3 (helpers.rs): exactly 3 passwords were checked, the rest refused.
    assert_eq!(wrong, 3);
    assert_eq!(checked_failures(&app, &admin, &tid).await, 3);
    // The right password does not get in (nor reset the count) while the lock lasts.
    app.sign_in(TENANT, "adele", RIGHT).await.assert_error(403, "account_locked", None);
    app.clock.advance_seconds(601);
    assert_eq!(app.sign_in(TENANT, "adele", RIGHT).await.status, 200);
}

async fn parallel_wrong_ropc_passwords_check_at_most_the_threshold(app: TestApp) {
    let (tid, admin) = contoso(&app).await;
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Cli", "publicClient": true})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let cid = a.body["appId"].as_str().unwrap().to_owned();
    let url = format!("{}/{tid}/oauth2/v2.0/token", app.base);
    let ropc = |password: String| {
        let (client, url, cid) = (app.client.clone(), url.clone(), cid.clone());
        async move {
            let form = [("grant_type", "password"), ("client_id", cid.as_str()), ("username", "adele@contoso.onatrium.local"),
                        ("password", password.as_str()), ("scope", "User.Read")];
            let r = client.post(url).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body["error_codes"][0].as_u64().unwrap_or(0), body)
        }
    };
    let tasks: Vec<_> = (0..60).map(|i| tokio::spawn(ropc(format!("Wr0ng-Passw0rd-{i}!")))).collect();
    let mut wrong = 0;
    for t in tasks {
        match t.await.unwrap() {
            (400, 50126, _) => wrong += 1,
            (400, 50053, _) => {}
            other => panic!("unexpected reply {other:?}"),
        }
    }
    assert_eq!(wrong, 3);
    assert_eq!(checked_failures(&app, &admin, &tid).await, 3);
    let locked = ropc(RIGHT.into()).await;
    assert_eq!((locked.0, locked.1), (400, 50053), "{}", locked.2);
    app.clock.advance_seconds(601);
    let ok = ropc(RIGHT.into()).await;
    assert_eq!(ok.0, 200, "{}", ok.2);
}

async fn unknown_and_locked_accounts_answer_alike(app: TestApp) {
    contoso(&app).await;
    // The same wrong passwords, for a real account and for a name nobody has.
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..5 {
        real.push(code_of(&app.sign_in(TENANT, "adele", &format!("Wr0ng-{i}-Passw0rd!")).await));
        unknown.push(code_of(&app.sign_in(TENANT, "nobody", &format!("Wr0ng-{i}-Passw0rd!")).await));
    }
    let invalid = (401, "invalid_credentials".to_owned());
    let locked = (403, "account_locked".to_owned());
    assert_eq!(real, vec![invalid.clone(), invalid.clone(), invalid.clone(), locked.clone(), locked.clone()]);
    assert_eq!(unknown, real, "a guesser cannot tell which account exists");
    // The real user with the right password learns why they cannot sign in.
    assert_eq!(code_of(&app.sign_in(TENANT, "adele@contoso.onatrium.local", RIGHT).await), locked);
    // Both locks end with the lockout period.
    app.clock.advance_seconds(601);
    assert_eq!(code_of(&app.sign_in(TENANT, "nobody", "Wr0ng-Passw0rd!").await), invalid);
    assert_eq!(app.sign_in(TENANT, "adele", RIGHT).await.status, 200);
}

async fn password_change_counts_toward_lockout(app: TestApp) {
    let (tid, admin) = contoso(&app).await;
    let adele = app.token(TENANT, "adele", RIGHT).await;
    for i in 0..3 {
        let r = app.post("/api/v1/me/password", &adele, json!({"currentPassword": format!("Wr0ng-{i}-Passw0rd!"), "newPassword": "N3w-Passw0rd!"})).await;
        r.assert_error(401, "invalid_credentials", Some("currentPassword"));
    }
    // Locked: even the right current password is refused, and so is signing in.
    let r = app.post("/api/v1/me/password", &adele, json!({"currentPassword": RIGHT, "newPassword": "N3w-Passw0rd!"})).await;
    r.assert_error(403, "account_locked", Some("currentPassword"));
    app.sign_in(TENANT, "adele", RIGHT).await.assert_error(403, "account_locked", None);
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.password.change.failed").count(), 3);
    // After the lock, the right current password changes it and clears the count.
    app.clock.advance_seconds(601);
    let r = app.request(Method::POST, "/api/v1/me/password", Some(&adele), Some(json!({"currentPassword": RIGHT, "newPassword": "N3w-Passw0rd!"}))).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for _ in 0..2 {
        app.sign_in(TENANT, "adele", "Wr0ng-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    }
    assert_eq!(app.sign_in(TENANT, "adele", "N3w-Passw0rd!").await.status, 200);
}
