//! Multi-factor sign-in (TOTP, RFC 6238) with an injected clock: enrolment, the second step on
//! the API, the console and the authorize page, replay and window edges, single-use recovery
//! codes (also concurrently), an administrator's reset, the tenant policy, ROPC's AADSTS50076,
//! and `amr`/`acr` in tokens.

use crate::helpers::TestApp;
use crate::identity::{setup, token};
use atrium_core::services::mfa::{base32_decode, totp_code, totp_step};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

api_tests!(
    mfa_enrol_then_sign_in_needs_the_code_once,
    mfa_window_is_one_step_either_side,
    mfa_recovery_codes_are_single_use_even_concurrently,
    mfa_admin_reset_and_global_admin_policy,
    mfa_ropc_refused_and_authorize_carries_amr,
    mfa_console_sign_in_has_a_second_step,
);

const PW: &str = "Us3r-Passw0rd!";
const TENANT: &str = "contoso.onatrium.local";

/// The current TOTP time step of the test clock.
fn now_step(app: &TestApp) -> i64 {
    use atrium_core::ports::Clock;
    totp_step(app.clock.now().as_millis() / 1000)
}

fn claims(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

async fn sign_in_otp(app: &TestApp, user: &str, otp: Option<&str>) -> crate::helpers::Res {
    let mut body = json!({"tenant": TENANT, "username": user, "password": PW});
    if let Some(o) = otp {
        body["otp"] = json!(o);
    }
    app.request(Method::POST, "/api/v1/sign-in", None, Some(body)).await
}

/// Enrols `token`'s user and returns (secret bytes, recovery codes). Confirms with the code of
/// the current step, so that step is spent.
async fn enrol(app: &TestApp, token: &str) -> (Vec<u8>, Vec<String>) {
    let r = app.post("/api/v1/me/mfa/totp", token, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 20);
    let code = totp_code(&secret, now_step(app));
    let r = app.post("/api/v1/me/mfa/totp/confirm", token, json!({"code": code})).await;
    let codes: Vec<String> = r.ok()["recoveryCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes)
}

async fn contoso_with_adele(app: &TestApp) -> (String, String, String, String) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let adele = app.create_user(&admin, &tid, "adele").await["id"].as_str().unwrap().to_owned();
    let token = app.token(TENANT, "adele", PW).await;
    (tid, admin, adele, token)
}

async fn mfa_enrol_then_sign_in_needs_the_code_once(app: TestApp) {
    let (tid, admin, _, token) = contoso_with_adele(&app).await;
    let s = app.get("/api/v1/me/mfa", &token).await;
    assert_eq!(s.ok()["totp"], false);
    // Confirming before starting is refused.
    app.post("/api/v1/me/mfa/totp/confirm", &token, json!({"code": "123456"})).await.assert_error(409, "mfa_enrolment_not_started", None);

    let r = app.post("/api/v1/me/mfa/totp", &token, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let uri = r.body["otpauthUri"].as_str().unwrap();
    let b32 = r.body["secret"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Atrium%3Aadele%40contoso.onatrium.local?secret=") && uri.contains(&format!("secret={b32}&issuer=Atrium")), "{uri}");
    assert!(r.body["qrCodeSvg"].as_str().unwrap().starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let secret = base32_decode(b32).unwrap();
    assert_eq!(app.get("/api/v1/me/mfa", &token).await.body["totpPending"], true);
    // Not yet on: the password alone still signs in.
    sign_in_otp(&app, "adele", None).await.ok();

    // A malformed and a wrong code are refused; the right one turns it on with 10 codes.
    app.post("/api/v1/me/mfa/totp/confirm", &token, json!({"code": "12ab"})).await.assert_error(400, "invalid_request", Some("code"));
    let wrong = if totp_code(&secret, now_step(&app)) == "000000" { "111111" } else { "000000" };
    app.post("/api/v1/me/mfa/totp/confirm", &token, json!({"code": wrong})).await.assert_error(401, "invalid_mfa_code", Some("code"));
    let step = now_step(&app);
    let r = app.post("/api/v1/me/mfa/totp/confirm", &token, json!({"code": totp_code(&secret, step)})).await;
    let codes = r.ok()["recoveryCodes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let status = app.get("/api/v1/me/mfa", &token).await;
    assert_eq!((status.body["totp"].as_bool(), status.body["recoveryCodesLeft"].as_u64()), (Some(true), Some(10)));
    // The secret is never shown again: starting over is refused while one is set up.
    app.post("/api/v1/me/mfa/totp", &token, json!({})).await.assert_error(409, "mfa_already_enrolled", None);

    // Sign-in now needs the code.
    sign_in_otp(&app, "adele", None).await.assert_error(401, "mfa_required", Some("otp"));
    // The code used to confirm is spent: replay refused.
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, step))).await.assert_error(401, "invalid_mfa_code", Some("otp"));
    app.clock.advance_seconds(30);
    let code = totp_code(&secret, step + 1);
    let r = sign_in_otp(&app, "adele", Some(&code)).await;
    assert!(r.ok()["token"].as_str().is_some());
    // The same code twice: the second is a replay.
    sign_in_otp(&app, "adele", Some(&code)).await.assert_error(401, "invalid_mfa_code", None);
    // A wrong password is still a wrong password, code or not.
    let r = app.request(Method::POST, "/api/v1/sign-in", None, Some(json!({"tenant": TENANT, "username": "adele", "password": "nope", "otp": code}))).await;
    r.assert_error(401, "invalid_credentials", None);

    let actions = app.audit_actions(&admin, &tid).await;
    for a in ["user.mfa.totp.start", "user.mfa.totp.confirm", "user.mfa.verify", "user.mfa.verify.failed"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }

    // Removing the authenticator: the password alone signs in again.
    assert_eq!(app.delete("/api/v1/me/mfa/totp", &token).await.status, 204);
    sign_in_otp(&app, "adele", None).await.ok();
    app.delete("/api/v1/me/mfa/totp", &token).await.assert_error(404, "not_found", None);
}

async fn mfa_window_is_one_step_either_side(app: TestApp) {
    let (_, _, _, token) = contoso_with_adele(&app).await;
    let (secret, _) = enrol(&app, &token).await;
    app.clock.advance_seconds(300);
    let n = now_step(&app);
    // One step behind (a slow phone) and one ahead (a fast one) are accepted...
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, n - 1))).await.ok();
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, n + 1))).await.ok();
    // ...and after n+1 was used, step n is older than the last one used: refused.
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, n))).await.assert_error(401, "invalid_mfa_code", None);
    app.clock.advance_seconds(150);
    let m = now_step(&app);
    assert_eq!(m, n + 5);
    // (Step m was not used, and m > n + 1: only the window refuses these.)
    let mut failures = 1;
    for outside in [m - 2, m + 2] {
        let code = totp_code(&secret, outside);
        if (-1..=1).any(|d| totp_code(&secret, m + d) == code) {
            continue; // a one-in-a-million collision with a code inside the window
        }
        sign_in_otp(&app, "adele", Some(&code)).await.assert_error(401, "invalid_mfa_code", None);
        failures += 1;
    }
    // Wrong codes count as failed sign-ins: the third locks the account (threshold 3 here),
    // so guessing codes is bounded like guessing passwords.
    if failures == 3 {
        sign_in_otp(&app, "adele", Some(&totp_code(&secret, m))).await.assert_error(403, "account_locked", None);
    }
    app.clock.advance_seconds(601);
    // The last second of a step still takes its code; the next second is the next step.
    app.clock.advance_seconds(29 - (app_seconds(&app) % 30));
    let edge = now_step(&app);
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, edge))).await.ok();
    app.clock.advance_seconds(1);
    assert_eq!(now_step(&app), edge + 1);
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, edge + 1))).await.ok();
}

fn app_seconds(app: &TestApp) -> i64 {
    use atrium_core::ports::Clock;
    app.clock.now().as_millis() / 1000
}

async fn mfa_recovery_codes_are_single_use_even_concurrently(app: TestApp) {
    let (_, _, _, token) = contoso_with_adele(&app).await;
    let (_, codes) = enrol(&app, &token).await;
    assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
    let r = sign_in_otp(&app, "adele", Some(&codes[0])).await;
    r.ok();
    sign_in_otp(&app, "adele", Some(&codes[0])).await.assert_error(401, "invalid_mfa_code", None);
    // Typed in capitals and without the dash, it is the same code.
    let typed = codes[1].replace('-', "").to_uppercase();
    sign_in_otp(&app, "adele", Some(&typed)).await.ok();
    assert_eq!(app.get("/api/v1/me/mfa", &token).await.body["recoveryCodesLeft"], 8);

    // Two sign-ins with one code at the same moment: exactly one wins. (Each loser is a wrong
    // code; with the replay above, that makes the 3 that lock the second step here.)
    for code in &codes[2..4] {
        let (a, b) = tokio::join!(sign_in_otp(&app, "adele", Some(code)), sign_in_otp(&app, "adele", Some(code)));
        let wins = [&a, &b].iter().filter(|r| r.status == 200).count();
        assert_eq!(wins, 1, "{} / {}", a.body, b.body);
        let loser = if a.status == 200 { &b } else { &a };
        loser.assert_error(401, "invalid_mfa_code", None);
    }
    assert_eq!(app.get("/api/v1/me/mfa", &token).await.body["recoveryCodesLeft"], 6);
    // Three wrong codes lock the second step for the lockout period, whatever the password
    // does: a correct password does not reset that count.
    sign_in_otp(&app, "adele", Some(&codes[5])).await.assert_error(403, "account_locked", None);
    sign_in_otp(&app, "adele", Some(&codes[5])).await.assert_error(403, "account_locked", None);
    app.clock.advance_seconds(601);
    sign_in_otp(&app, "adele", Some(&codes[5])).await.ok();
}

async fn mfa_admin_reset_and_global_admin_policy(app: TestApp) {
    let (tid, admin, adele, token) = contoso_with_adele(&app).await;
    enrol(&app, &token).await;
    sign_in_otp(&app, "adele", None).await.assert_error(401, "mfa_required", None);
    // Only an administrator resets; a user cannot reset another's (or the admin's).
    let admin_id = app.get("/api/v1/me", &admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/tenants/{tid}/users/{admin_id}/mfa/reset"), &token, json!({})).await.assert_error(403, "forbidden", None);
    let missing = uuid::Uuid::new_v4();
    app.post(&format!("/api/v1/tenants/{tid}/users/{missing}/mfa/reset"), &admin, json!({})).await.assert_error(404, "user_not_found", None);
    let r = app.post(&format!("/api/v1/tenants/{tid}/users/{adele}/mfa/reset"), &admin, json!({})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    sign_in_otp(&app, "adele", None).await.ok();
    assert_eq!(app.get("/api/v1/me/mfa", &token).await.body["totp"], false);
    assert!(app.audit_actions(&admin, &tid).await.iter().any(|a| a == "user.mfa.reset"));

    // The tenant policy: off by default; only a global admin sets it.
    let p = format!("/api/v1/tenants/{tid}/mfa-policy");
    assert_eq!(app.get(&p, &admin).await.ok()["requireMfaForGlobalAdmins"], false);
    app.request(Method::PUT, &p, Some(&token), Some(json!({"requireMfaForGlobalAdmins": true}))).await.assert_error(403, "forbidden", None);
    app.request(Method::PUT, &p, Some(&admin), Some(json!({"requireMfaForGlobalAdmins": "yes"}))).await.assert_error(400, "invalid_json", None);
    let r = app.request(Method::PUT, &p, Some(&admin), Some(json!({"requireMfaForGlobalAdmins": true}))).await;
    assert_eq!(r.ok()["requireMfaForGlobalAdmins"], true);
    assert!(app.audit_actions(&admin, &tid).await.iter().any(|a| a == "tenant.mfa_policy.update"));
    // The admin's status says it is required of them; adele (not an admin) is unaffected.
    assert_eq!(app.get("/api/v1/me/mfa", &admin).await.body["required"], true);
    assert_eq!(app.get("/api/v1/me/mfa", &token).await.body["required"], false);

    // In the console, the admin is sent to Security info before anything else.
    let cookie = console_sign_in(&app, "admin", "Adm1n-Passw0rd!", None).await;
    let res = app.no_redirect.get(format!("{}/accounts", app.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/security-info");
    let page = app.no_redirect.get(format!("{}/security-info", app.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("requires global administrators to sign in with an authenticator app"), "{html}");
    // Once enrolled, the console opens normally and the admin's sign-in needs the code.
    let admin_session = app.token(TENANT, "admin", "Adm1n-Passw0rd!").await;
    let (secret, _) = enrol(&app, &admin_session).await;
    let res = app.no_redirect.get(format!("{}/accounts", app.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_ne!(res.headers().get(LOCATION).map(|v| v.to_str().unwrap()), Some("/security-info"));
    app.clock.advance_seconds(30);
    let r = app
        .request(Method::POST, "/api/v1/sign-in", None, Some(json!({"tenant": TENANT, "username": "admin", "password": "Adm1n-Passw0rd!"})))
        .await;
    r.assert_error(401, "mfa_required", None);
    let code = totp_code(&secret, now_step(&app));
    let r = app
        .request(Method::POST, "/api/v1/sign-in", None, Some(json!({"tenant": TENANT, "username": "admin", "password": "Adm1n-Passw0rd!", "otp": code})))
        .await;
    r.ok();
}

async fn mfa_ropc_refused_and_authorize_carries_amr(app: TestApp) {
    let (tid, _, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap().to_owned();
    let ropc = || async {
        token(&app, &tid, &[("grant_type", "password"), ("client_id", &cid), ("client_secret", &secret), ("username", "adele"), ("password", PW), ("scope", "User.Read openid offline_access")]).await
    };
    let (status, body) = ropc().await;
    assert_eq!(status, 200, "{body}");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!((at["amr"].clone(), at["acr"].clone()), (json!(["pwd"]), json!("1")));
    assert_eq!(claims(body["id_token"].as_str().unwrap())["amr"], json!(["pwd"]));

    let adele = app.token(TENANT, "adele", PW).await;
    let (totp, _) = enrol(&app, &adele).await;
    let (status, body) = ropc().await;
    assert_eq!((status, body["error"].as_str(), body["error_codes"][0].as_u64()), (400, Some("invalid_grant"), Some(50076)), "{body}");
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS50076: Due to a configuration change made by your administrator"), "{body}");

    // The authorize page asks for the code after the password, then issues the code.
    app.clock.advance_seconds(30);
    let q = [("client_id", cid.as_str()), ("response_type", "code"), ("redirect_uri", "https://web.contoso.com/cb"), ("scope", "User.Read openid offline_access"), ("state", "s-1")];
    let url = format!("{}/{tid}/oauth2/v2.0/authorize", app.base);
    let form = [q.to_vec(), vec![("username", "adele"), ("password", PW)]].concat();
    let r = app.no_redirect.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get(LOCATION).is_none(), "no code before the second factor");
    let html = r.text().await.unwrap();
    assert!(html.contains("Verify your identity") && html.contains("name=\"otc\""), "{html}");
    let challenge = hidden(&html, "challenge");
    // A wrong code shows the step again; a forged challenge starts over.
    let wrong = if totp_code(&totp, now_step(&app)) == "000000" { "111111" } else { "000000" };
    let second = |challenge: String, code: String| {
        let mut form: Vec<(String, String)> = q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        form.extend([("challenge".to_owned(), challenge), ("otc".to_owned(), code)]);
        let (client, url) = (app.no_redirect.clone(), url.clone());
        async move { client.post(&url).form(&form).send().await.unwrap() }
    };
    let r = second(challenge.clone(), wrong.to_owned()).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("That code is incorrect"));
    let r = second(format!("{challenge}x"), totp_code(&totp, now_step(&app))).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("The sign-in took too long"));
    let r = second(challenge.clone(), totp_code(&totp, now_step(&app))).await;
    assert_eq!(r.status(), 302);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(loc.starts_with("https://web.contoso.com/cb?code="), "{loc}");
    let code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap().replace("%2D", "-").replace("%5F", "_");
    let (status, body) = token(&app, &tid, &[("grant_type", "authorization_code"), ("client_id", &cid), ("client_secret", &secret), ("code", &code), ("redirect_uri", "https://web.contoso.com/cb")]).await;
    assert_eq!(status, 200, "{body}");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!((at["amr"].clone(), at["acr"].clone()), (json!(["pwd", "mfa", "otp"]), json!("2")));
    assert_eq!(claims(body["id_token"].as_str().unwrap())["amr"], json!(["pwd", "mfa", "otp"]));
    // A refreshed token keeps how the user signed in.
    let rt = body["refresh_token"].as_str().unwrap();
    let (status, body) = token(&app, &tid, &[("grant_type", "refresh_token"), ("client_id", &cid), ("client_secret", &secret), ("refresh_token", rt)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["amr"], json!(["pwd", "mfa", "otp"]));
    // The challenge expires after five minutes.
    app.clock.advance_seconds(301);
    let r = second(challenge, totp_code(&totp, now_step(&app))).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("The sign-in took too long"));
}

fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key).unwrap_or_else(|| panic!("no {name} in {html}")) + key.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn post_sign_in(app: &TestApp, pairs: &[(&str, &str)]) -> reqwest::Response {
    app.no_redirect
        .post(format!("{}/sign-in", app.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ORIGIN, &app.base)
        .body(form(pairs))
        .send()
        .await
        .unwrap()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("atrium_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// Console sign-in; with `otp`, through the second step. Returns the session cookie.
async fn console_sign_in(app: &TestApp, user: &str, password: &str, otp: Option<&str>) -> String {
    let res = post_sign_in(app, &[("tenant", TENANT), ("username", user), ("password", password)]).await;
    let Some(otp) = otp else {
        assert_eq!(res.status(), 303);
        return session_cookie(&res).expect("a session cookie");
    };
    assert_eq!(res.status(), 200, "the code step");
    assert!(session_cookie(&res).is_none(), "no session before the second factor");
    let challenge = hidden(&res.text().await.unwrap(), "challenge");
    let res = post_sign_in(app, &[("challenge", &challenge), ("otp", otp)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/accounts");
    session_cookie(&res).expect("a session cookie")
}

async fn mfa_console_sign_in_has_a_second_step(app: TestApp) {
    let (_, _, _, _) = contoso_with_adele(&app).await;
    // Enrol from the console's Security info page.
    let cookie = console_sign_in(&app, "adele", PW, None).await;
    let get = |path: &str| {
        let (client, url, cookie) = (app.no_redirect.clone(), format!("{}{path}", app.base), cookie.clone());
        async move { client.get(url).header(COOKIE, cookie).send().await.unwrap().text().await.unwrap() }
    };
    let html = get("/security-info").await;
    assert!(html.contains("Set up an authenticator app"), "{html}");
    let csrf = hidden(&html, "csrf");
    let post = |path: &str, pairs: Vec<(&str, String)>| {
        let (client, url, cookie) = (app.no_redirect.clone(), format!("{}{path}", app.base), cookie.clone());
        let body = form(&pairs.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
        let origin = app.base.clone();
        async move {
            let r = client.post(url).header(COOKIE, cookie).header(ORIGIN, origin).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = post("/security-info/totp", vec![("csrf", csrf.clone())]).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""), "the QR code is inline SVG");
    let b32 = html.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let secret = base32_decode(&b32).unwrap();
    // A wrong code shows the same set-up again with the reason.
    let wrong = if totp_code(&secret, now_step(&app)) == "000000" { "111111" } else { "000000" };
    let (status, html) = post("/security-info/totp/confirm", vec![("csrf", csrf.clone()), ("code", wrong.into())]).await;
    assert_eq!(status, 400);
    assert!(html.contains(&b32) && html.contains("incorrect"), "{html}");
    let (status, html) = post("/security-info/totp/confirm", vec![("csrf", csrf.clone()), ("code", totp_code(&secret, now_step(&app)))]).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<li><code>").count(), 10, "ten recovery codes: {html}");
    let html = get("/security-info").await;
    assert!(html.contains("id=\"totp-on\"") && !html.contains(&b32), "the secret is not shown again");

    // Sign-in now has a second step; a wrong code keeps you there.
    app.clock.advance_seconds(30);
    let res = post_sign_in(&app, &[("tenant", TENANT), ("username", "adele"), ("password", PW)]).await;
    assert_eq!(res.status(), 200);
    let challenge = hidden(&res.text().await.unwrap(), "challenge");
    let res = post_sign_in(&app, &[("challenge", &challenge), ("otp", wrong)]).await;
    assert_eq!(res.status(), 401);
    assert!(session_cookie(&res).is_none());
    let cookie = console_sign_in(&app, "adele", PW, Some(&totp_code(&secret, now_step(&app)))).await;
    let res = app.no_redirect.get(format!("{}/security-info", app.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
