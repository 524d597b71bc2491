//! Issue 16: lockout as one atomic step (parallel guesses cannot outrun it), lockout that does
//! not reveal which accounts exist, the password change guarded by the same counter, and
//! throttling (429 with Retry-After), on one node and on two nodes sharing one database.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

// 60 wrong passwords from one address would meet the per-address throttle (30 a minute) first;
// these tests are about the per-user lock, so that throttle is off here (see throttling.rs).
api_tests_with!(
    lockout_only;
    parallel_wrong_passwords_check_at_most_the_threshold,
    parallel_wrong_ropc_passwords_check_at_most_the_threshold,
);

fn lockout_only(c: &mut atrium_server::Config) {
    c.throttle_sign_in_per_address = 0;
}

api_tests!(
    parallel_right_passwords_all_sign_in,
    parallel_right_and_wrong_passwords_end_sensibly,
    unknown_and_locked_accounts_answer_alike,
    password_change_counts_toward_lockout,
    wrong_client_secrets_meet_429_until_retry_after,
);

/// Two nodes on one PostgreSQL database share the lockout and the throttling counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_lockout_and_throttling() {
    let a = spawn_app(atrium_store::testing::Backend::Postgres).await;
    let b = a.second_node().await;
    let (tid, _) = contoso(&a).await;
    // Wrong passwords alternate between the nodes: the lock counts them all.
    for (i, node) in [&a, &b, &a].into_iter().enumerate() {
        node.sign_in(TENANT, "adele", &format!("Wr0ng-{i}-Passw0rd!")).await.assert_error(401, "invalid_credentials", None);
    }
    b.sign_in(TENANT, "adele", RIGHT).await.assert_error(403, "account_locked", None);
    a.sign_in(TENANT, "adele", RIGHT).await.assert_error(403, "account_locked", None);
    // Wrong client secrets alternate too: the limit of 20 per client is reached across both.
    let (cid, _) = web_app(&a, &tid).await;
    for i in 0..20 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = client_credentials(node, &tid, &cid, "wrong-secret").await;
        assert_eq!(r.0, 401, "{}", r.2);
    }
    for node in [&a, &b] {
        let r = client_credentials(node, &tid, &cid, "wrong-secret").await;
        assert_eq!((r.0, r.1), (429, 90055), "{}", r.2);
    }
}

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

/// 24 concurrent REST sign-ins with the right password (one account used by many workers):
/// none is counted as a failure, so all get in, and the account is not left locked.
async fn parallel_right_passwords_all_sign_in(app: TestApp) {
    let (tid, admin) = contoso(&app).await;
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/sign-in", app.base));
            tokio::spawn(async move {
                let r = client.post(url).json(&json!({"tenant": TENANT, "username": "adele", "password": RIGHT})).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.text().await.unwrap())
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(checked_failures(&app, &admin, &tid).await, 0);
    // Two wrong passwords after them are still under the threshold of 3.
    for _ in 0..2 {
        app.sign_in(TENANT, "adele", "Wr0ng-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    }
    assert_eq!(app.sign_in(TENANT, "adele", RIGHT).await.status, 200);
}

/// Right and wrong passwords at once: every reply is a sign-in, a wrong password or the lock,
/// and the wrong ones in a row never pass the threshold.
async fn parallel_right_and_wrong_passwords_end_sensibly(app: TestApp) {
    contoso(&app).await;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/sign-in", app.base));
            let password = if i % 2 == 0 { RIGHT.to_owned() } else { format!("Wr0ng-Passw0rd-{i}!") };
            tokio::spawn(async move {
                let r = client.post(url).json(&json!({"tenant": TENANT, "username": "adele", "password": password})).send().await.unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (i % 2 == 0, status, body["error"]["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    for t in tasks {
        match t.await.unwrap() {
            (true, 200, _) | (false, 401, _) => {}
            (_, 403, c) if c == "account_locked" => {}
            other => panic!("unexpected reply {other:?}"),
        }
    }
    // Whatever the interleaving, the account ends usable once any lock has passed.
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

/// A confidential app of the tenant (the admin's token is the owner-made admin); returns
/// (client id, secret).
async fn web_app(app: &TestApp, tid: &str) -> (String, String) {
    let admin = app.token(TENANT, "admin", "Adm1n-Passw0rd!").await;
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Web"})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let k = app.post(&format!("/api/v1/tenants/{tid}/applications/{}/keys", a.body["id"].as_str().unwrap()), &admin, json!({})).await;
    assert_eq!(k.status, 201, "{}", k.body);
    (a.body["appId"].as_str().unwrap().to_owned(), k.body["secret"].as_str().unwrap().to_owned())
}

/// A client-credentials request: (status, AADSTS code, body, Retry-After).
async fn client_credentials(app: &TestApp, tid: &str, cid: &str, secret: &str) -> (u16, u64, Value, Option<u64>) {
    let form = [("grant_type", "client_credentials"), ("client_id", cid), ("client_secret", secret), ("scope", "https://graph.microsoft.com/.default")];
    let r = app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(&form).send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let body: Value = r.json().await.unwrap();
    (status, body["error_codes"][0].as_u64().unwrap_or(0), body, retry)
}

async fn wrong_client_secrets_meet_429_until_retry_after(app: TestApp) {
    let (tid, _) = contoso(&app).await;
    let (cid, secret) = web_app(&app, &tid).await;
    // A burst of wrong secrets, all at once: the limit is 20 per client per minute.
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (client, base, tid, cid) = (app.client.clone(), app.base.clone(), tid.clone(), cid.clone());
            tokio::spawn(async move {
                let form = [("grant_type", "client_credentials"), ("client_id", cid.as_str()), ("client_secret", "wrong-secret"),
                            ("scope", "https://graph.microsoft.com/.default")];
                client.post(format!("{base}/{tid}/oauth2/v2.0/token")).form(&form).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    for t in tasks {
        let s = t.await.unwrap();
        assert!(matches!(s, 401 | 429), "{s}");
    }
    let r = client_credentials(&app, &tid, &cid, "wrong-secret").await;
    assert_eq!((r.0, r.1, r.2["error"].as_str()), (429, 90055, Some("temporarily_unavailable")), "{}", r.2);
    let retry = r.3.expect("a 429 says when to try again");
    assert!((1..=60).contains(&retry), "{retry}");
    // The right secret waits too: a guesser learns nothing while throttled.
    let right = client_credentials(&app, &tid, &cid, &secret).await;
    assert_eq!(right.0, 429, "{}", right.2);
    app.clock.advance_seconds(i64::try_from(retry).unwrap());
    let right = client_credentials(&app, &tid, &cid, &secret).await;
    assert_eq!(right.0, 200, "{}", right.2);
}
