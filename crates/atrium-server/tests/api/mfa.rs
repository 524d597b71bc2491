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
    mfa_concurrent_wrong_codes_evaluate_at_most_the_threshold,
    mfa_secret_is_sealed_at_rest_and_raw_rows_still_work,
    mfa_sign_in_logs_record_the_second_factor,
    mfa_tenant_association_asks_for_the_code,
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

/// A 6-digit code that is none of the codes accepted around `step`.
fn wrong_code(secret: &[u8], step: i64, salt: u32) -> String {
    let window: Vec<String> = (-1..=1).map(|d| totp_code(secret, step + d)).collect();
    (salt..).map(|n| format!("{:06}", n * 7919 % 1_000_000)).find(|c| !window.contains(c)).unwrap()
}

/// 30 sign-ins at once with the right password and wrong codes, on one user: each code is
/// counted before it is evaluated, under one row lock, so exactly the threshold (3) are
/// evaluated and the rest meet the lock; the right code then waits for the window too.
async fn mfa_concurrent_wrong_codes_evaluate_at_most_the_threshold(app: TestApp) {
    let (tid, admin, _, token) = contoso_with_adele(&app).await;
    let (secret, _) = enrol(&app, &token).await;
    app.clock.advance_seconds(30);
    let step = now_step(&app);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/sign-in", app.base));
            let code = wrong_code(&secret, step, i);
            tokio::spawn(async move {
                let r = client.post(url).json(&json!({"tenant": TENANT, "username": "adele", "password": PW, "otp": code})).send().await.unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap();
                (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    let (mut wrong, mut locked) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (401, c) if c == "invalid_mfa_code" => wrong += 1,
            (403, c) if c == "account_locked" => locked += 1,
            other => panic!("unexpected reply {other:?}"),
        }
    }
    assert_eq!((wrong, locked), (3, 27));
    let actions = app.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.mfa.verify.failed").count(), 3, "3 codes evaluated: {actions:?}");
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, step))).await.assert_error(403, "account_locked", None);
    app.clock.advance_seconds(601);
    sign_in_otp(&app, "adele", Some(&totp_code(&secret, now_step(&app)))).await.ok();
}

/// Two nodes on one PostgreSQL database: wrong codes sent to both at once still evaluate at
/// most the threshold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_wrong_code_count() {
    let a = crate::helpers::spawn_app(atrium_store::testing::Backend::Postgres).await;
    let b = a.second_node().await;
    let (tid, admin, _, token) = contoso_with_adele(&a).await;
    let (secret, _) = enrol(&a, &token).await;
    a.clock.advance_seconds(30);
    let step = now_step(&a);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let node = if i % 2 == 0 { &a } else { &b };
            let (client, url) = (node.client.clone(), format!("{}/api/v1/sign-in", node.base));
            let code = wrong_code(&secret, step, i);
            tokio::spawn(async move {
                let r = client.post(url).json(&json!({"tenant": TENANT, "username": "adele", "password": PW, "otp": code})).send().await.unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 17, "{statuses:?}");
    let actions = a.audit_actions(&admin, &tid).await;
    assert_eq!(actions.iter().filter(|a| *a == "user.mfa.verify.failed").count(), 3);
}

/// The TOTP secret is stored sealed with the master key; rows stored raw (before sealing
/// existed) keep working, and are sealed when used or when the server starts.
async fn mfa_secret_is_sealed_at_rest_and_raw_rows_still_work(app: TestApp) {
    use atrium_core::ids::{TenantId, UserId};
    use atrium_core::model::TotpMethod;
    use atrium_core::ports::Clock;
    let (tid, admin, adele, token) = contoso_with_adele(&app).await;
    let tenant = TenantId::parse(&tid, "tid").unwrap();
    let stored = |user: UserId| {
        let store = app.services.store().clone();
        async move { store.begin_read().await.unwrap().get_totp(tenant, user).await.unwrap().unwrap() }
    };
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);

    let (secret, _) = enrol(&app, &token).await;
    let m = stored(UserId::parse(&adele, "id").unwrap()).await;
    assert!(m.sealed && !contains(&m.secret, &secret), "sealed, not the secret itself");
    assert_eq!(m.secret.len(), 12 + 20 + 16, "nonce, ciphertext, tag");

    // Alex and Ben set up an authenticator before secrets were sealed: raw rows.
    let raw_row = |user: &Value, secret: &[u8]| TotpMethod {
        user_id: UserId::parse(user["id"].as_str().unwrap(), "id").unwrap(),
        tenant_id: tenant,
        secret: secret.to_vec(),
        sealed: false,
        confirmed_at: None,
        last_step: 0,
        created_at: app.clock.now(),
    };
    let alex = app.create_user(&admin, &tid, "alex").await;
    let ben = app.create_user(&admin, &tid, "ben").await;
    let (alex_secret, ben_secret) = (b"alex-raw-secret-0001".to_vec(), b"ben-raw-secret-00002".to_vec());
    {
        let mut tx = app.services.store().begin().await.unwrap();
        for row in [raw_row(&alex, &alex_secret), raw_row(&ben, &ben_secret)] {
            assert!(tx.put_pending_totp(&row).await.unwrap());
            assert!(tx.confirm_totp(row.user_id, now_step(&app) - 5, app.clock.now()).await.unwrap());
        }
        tx.commit().await.unwrap();
    }
    let alex_id = UserId::parse(alex["id"].as_str().unwrap(), "id").unwrap();
    let ben_id = UserId::parse(ben["id"].as_str().unwrap(), "id").unwrap();
    assert!(!stored(alex_id).await.sealed);
    // Alex signs in with the raw secret's code: it works, and the row is sealed on the way.
    sign_in_otp(&app, "alex", None).await.assert_error(401, "mfa_required", None);
    sign_in_otp(&app, "alex", Some(&totp_code(&alex_secret, now_step(&app)))).await.ok();
    let m = stored(alex_id).await;
    assert!(m.sealed && !contains(&m.secret, &alex_secret), "sealed when used");
    app.clock.advance_seconds(30);
    sign_in_otp(&app, "alex", Some(&totp_code(&alex_secret, now_step(&app)))).await.ok();
    // Ben's row is sealed by the pass every server start runs (here called directly).
    assert!(!stored(ben_id).await.sealed);
    assert_eq!(app.services.seal_stored_totp_secrets().await.unwrap(), 1);
    assert_eq!(app.services.seal_stored_totp_secrets().await.unwrap(), 0, "nothing left to seal");
    let m = stored(ben_id).await;
    assert!(m.sealed && !contains(&m.secret, &ben_secret));
    sign_in_otp(&app, "ben", Some(&totp_code(&ben_secret, now_step(&app)))).await.ok();
    // A sealed secret copied into another user's row does not open there.
    {
        let mut tx = app.services.store().begin().await.unwrap();
        tx.delete_mfa(ben_id).await.unwrap();
        let copy = TotpMethod { user_id: ben_id, sealed: true, last_step: 0, ..stored(alex_id).await };
        assert!(tx.put_pending_totp(&copy).await.unwrap());
        assert!(tx.confirm_totp(ben_id, now_step(&app) - 5, app.clock.now()).await.unwrap());
        tx.commit().await.unwrap();
    }
    app.clock.advance_seconds(30);
    let r = sign_in_otp(&app, "ben", Some(&totp_code(&alex_secret, now_step(&app)))).await;
    assert_eq!(r.status, 500, "{}", r.body);
}

/// Sign-in logs: `mfaUsed` when a second factor was satisfied; the password step that waits
/// for the code is 50074; wrong codes are failures with 500121; on the API, the console and
/// the authorize page (and the code's redemption carries `mfaUsed`).
async fn mfa_sign_in_logs_record_the_second_factor(app: TestApp) {
    let (tid, admin, web, client_secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap().to_owned();
    let adele_token = app.token(TENANT, "adele", PW).await;
    let adele = app.get("/api/v1/me", &adele_token).await.body["user"]["id"].clone();
    let (secret, codes) = enrol(&app, &adele_token).await;
    // The API: no code, a wrong one, a wrong recovery code, then a right one.
    app.clock.advance_seconds(30);
    sign_in_otp(&app, "adele", None).await.assert_error(401, "mfa_required", None);
    sign_in_otp(&app, "adele", Some(&wrong_code(&secret, now_step(&app), 1))).await.assert_error(401, "invalid_mfa_code", None);
    sign_in_otp(&app, "adele", Some("aaaaa-bbbbb")).await.assert_error(401, "invalid_mfa_code", None);
    sign_in_otp(&app, "adele", Some(&codes[0])).await.ok();
    // The console: the password step, then the code.
    let cookie = console_sign_in(&app, "adele", PW, Some(&totp_code(&secret, now_step(&app)))).await;
    assert!(cookie.starts_with("atrium_session="));
    // The authorize page: the password step, then the code; the code is redeemed.
    app.clock.advance_seconds(30);
    let q = [("client_id", cid.as_str()), ("response_type", "code"), ("redirect_uri", "https://web.contoso.com/cb"), ("scope", "User.Read openid")];
    let url = format!("{}/{tid}/oauth2/v2.0/authorize", app.base);
    let r = app.no_redirect.post(&url).form(&[q.to_vec(), vec![("username", "adele"), ("password", PW)]].concat()).send().await.unwrap();
    let challenge = hidden(&r.text().await.unwrap(), "challenge");
    let code = totp_code(&secret, now_step(&app));
    let r = app.no_redirect.post(&url).form(&[q.to_vec(), vec![("challenge", challenge.as_str()), ("otc", code.as_str())]].concat()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let auth_code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap().replace("%2D", "-").replace("%5F", "_");
    let form = [("grant_type", "authorization_code"), ("client_id", cid.as_str()), ("client_secret", client_secret.as_str()), ("code", auth_code.as_str()), ("redirect_uri", "https://web.contoso.com/cb")];
    assert_eq!(token(&app, &tid, &form).await.0, 200);

    // setup: the admin's 2 sign-ins; adele's first; then 4 API, 2 console, 3 authorize + redemption.
    let path = format!("/api/v1/sign-ins?tenantId={tid}&userId={}&limit=100", adele.as_str().unwrap());
    let items = crate::sign_ins::sign_ins(&app, &admin, &path, 10).await;
    assert_eq!(items.len(), 10, "{items:#?}");
    let count = |pred: &dyn Fn(&Value) -> bool| items.iter().filter(|e| pred(e)).count();
    let by = |code: i64, browser: bool| move |e: &Value| e["status"]["errorCode"] == code && (e["clientAppUsed"] == "Browser") == browser;
    // Waiting for the code: API, console and authorize page.
    assert_eq!(count(&by(50074, false)), 1);
    assert_eq!(count(&by(50074, true)), 2);
    let waiting = items.iter().find(|e| e["status"]["errorCode"] == 50074).unwrap();
    assert_eq!(waiting["status"]["failureReason"], "Strong Authentication is required.");
    assert_eq!(waiting["mfaUsed"], false);
    // Wrong codes (a TOTP code and a recovery code): failures with 500121, the user named.
    assert_eq!(count(&by(500121, false)), 2);
    for e in items.iter().filter(|e| e["status"]["errorCode"] == 500121) {
        assert_eq!(e["status"]["failureReason"], "Authentication failed during strong authentication request.");
        assert_eq!((e["userId"].clone(), e["mfaUsed"].clone()), (adele.clone(), json!(false)));
    }
    // Successes after a second factor: API (recovery code), console, authorize page, and the
    // redemption of the authorize page's code; adele's first sign-in had none.
    let mfa_ok: Vec<&Value> = items.iter().filter(|e| e["status"]["errorCode"] == 0 && e["mfaUsed"] == true).collect();
    assert_eq!(mfa_ok.len(), 4, "{items:#?}");
    assert_eq!(mfa_ok.iter().filter(|e| e["signInEventTypes"][0] == "nonInteractiveUser").count(), 1);
    assert_eq!(mfa_ok.iter().filter(|e| e["appId"] == cid.as_str()).count(), 2);
    assert_eq!(count(&|e: &Value| e["status"]["errorCode"] == 0 && e["mfaUsed"] == false), 1);
}

/// Associating a tenant signs in as one of its users: one with an authenticator app (or a
/// global administrator under the tenant's policy) gives the code too, on the API and on the
/// console's form.
async fn mfa_tenant_association_asks_for_the_code(app: TestApp) {
    let owner = app.owner().await;
    let acc = crate::accounts::create_account(&app, &owner, "Contoso Games").await;
    let (_, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let (secret, _) = enrol(&app, &admin).await;
    app.clock.advance_seconds(30);
    let start = format!("/api/v1/accounts/{acc}/tenants/associations");
    let body = |otp: Option<String>| {
        let mut b = json!({"tenant": TENANT, "username": "admin", "password": "Adm1n-Passw0rd!"});
        if let Some(o) = otp {
            b["otp"] = json!(o);
        }
        b
    };
    let r = app.post(&start, &owner, body(None)).await;
    r.assert_error(401, "mfa_required", Some("otp"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("multi-factor authentication"), "{}", r.body);
    app.post(&start, &owner, body(Some(wrong_code(&secret, now_step(&app), 3)))).await.assert_error(401, "invalid_mfa_code", Some("otp"));
    // The password is still checked first: a wrong one with a right code is a wrong password.
    let wrong_pw = json!({"tenant": TENANT, "username": "admin", "password": "Wr0ng-Passw0rd!", "otp": totp_code(&secret, now_step(&app))});
    app.post(&start, &owner, wrong_pw).await.assert_error(401, "invalid_credentials", None);
    let r = app.post(&start, &owner, body(Some(totp_code(&secret, now_step(&app))))).await;
    assert_eq!(r.ok()["domain"], TENANT);
    // The code is spent: the same one again is refused.
    app.post(&start, &owner, body(Some(totp_code(&secret, now_step(&app))))).await.assert_error(401, "invalid_mfa_code", Some("otp"));

    // A global administrator under the policy, without an authenticator yet: refused, and told why.
    let (ftid, fadmin) = app.tenant_with_admin(&owner, "fabrikam").await;
    let r = app.request(Method::PUT, &format!("/api/v1/tenants/{ftid}/mfa-policy"), Some(&fadmin), Some(json!({"requireMfaForGlobalAdmins": true}))).await;
    r.ok();
    let fab = json!({"tenant": "fabrikam.onatrium.local", "username": "admin", "password": "Adm1n-Passw0rd!"});
    let r = app.post(&start, &owner, fab.clone()).await;
    r.assert_error(401, "mfa_required", Some("otp"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("no authenticator app yet"), "{}", r.body);
    // An ordinary user of that tenant is not asked.
    app.create_user(&fadmin, &ftid, "frank").await;
    let r = app.post(&start, &owner, json!({"tenant": "fabrikam.onatrium.local", "username": "frank", "password": PW})).await;
    r.ok();

    // The console's form: the code's field shows the error, then the review page.
    let cookie_res = post_sign_in(&app, &[("tenant", "personal.onatrium.local"), ("username", app.owner_upn.as_str()), ("password", crate::helpers::OWNER_PASSWORD)]).await;
    assert_eq!(cookie_res.status(), 303);
    let cookie = session_cookie(&cookie_res).unwrap();
    let page_url = format!("{}/accounts/{acc}/tenants/associate", app.base);
    let html = app.no_redirect.get(&page_url).header(COOKIE, &cookie).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("name=\"otp\""), "{html}");
    let csrf = hidden(&html, "csrf");
    let post = |otp: String| {
        let (client, url, cookie, origin) = (app.no_redirect.clone(), page_url.clone(), cookie.clone(), app.base.clone());
        let body = form(&[("csrf", csrf.as_str()), ("tenant", TENANT), ("username", "admin"), ("password", "Adm1n-Passw0rd!"), ("otp", otp.as_str())]);
        async move {
            let r = client.post(url).header(COOKIE, cookie).header(ORIGIN, origin).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = post(String::new()).await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"otp-error\"") && html.contains("multi-factor authentication"), "{html}");
    app.clock.advance_seconds(30);
    let (status, html) = post(totp_code(&secret, now_step(&app))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Tenant contoso") && html.contains(TENANT), "the review page: {html}");
}
