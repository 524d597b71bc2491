use crate::helpers::TestApp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

api_tests!(
    applications_and_keys,
    client_credentials_and_its_errors,
    malformed_token_requests_get_oauth_errors,
    authorization_codes_are_single_use_bound_and_pkce_checked,
    refresh_tokens_rotate_and_die_with_the_user,
    concurrent_password_grants_do_not_starve_the_pool,
);

/// A tenant with an admin, a user `adele` and a confidential app with one key.
pub(crate) async fn setup(app: &TestApp) -> (String, String, Value, String) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    let a = app
        .post(
            &format!("/api/v1/tenants/{tid}/applications"),
            &admin,
            json!({"displayName": "Web", "replyUrls": ["https://web.contoso.com/cb"], "appIdUri": "api://contoso-web"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let k = app.post(&format!("/api/v1/tenants/{tid}/applications/{}/keys", a.body["id"].as_str().unwrap()), &admin, json!({})).await;
    assert_eq!(k.status, 201);
    (tid, admin, a.body.clone(), k.body["secret"].as_str().unwrap().to_owned())
}

pub(crate) async fn token(app: &TestApp, tid: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(form).header("client-request-id", "11111111-2222-3333-4444-555555555555").send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[track_caller]
fn assert_aadsts(res: &(u16, Value), status: u16, error: &str, code: u64) {
    assert_eq!(res.0, status, "{}", res.1);
    assert_eq!(res.1["error"], error, "{}", res.1);
    assert_eq!(res.1["error_codes"][0], code, "{}", res.1);
    let d = res.1["error_description"].as_str().unwrap();
    assert!(d.starts_with(&format!("AADSTS{code}: ")) && d.contains("\r\nCorrelation ID: 11111111-2222-3333-4444-555555555555"), "{d}");
    assert_eq!(res.1["correlation_id"], "11111111-2222-3333-4444-555555555555");
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn applications_and_keys(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let apps = format!("/api/v1/tenants/{tid}/applications");
    let id = web["id"].as_str().unwrap();
    let app_id = web["appId"].as_str().unwrap();
    assert_eq!(web["tenantId"], tid.as_str());
    assert_eq!(web["replyUrls"][0], "https://web.contoso.com/cb");
    assert_eq!(app.get(&format!("{apps}/{app_id}"), &admin).await.ok()["id"], id, "found by appId too");

    let create = |body| app.post(&apps, &admin, body);
    create(json!({"displayName": "B", "replyUrls": ["HTTPS://WEB.contoso.com/cb"]})).await.assert_error(409, "reply_url_taken", Some("replyUrls[0]"));
    create(json!({"displayName": "B", "appIdUri": "API://Contoso-Web"})).await.assert_error(409, "app_id_uri_taken", Some("appIdUri"));
    create(json!({"displayName": "B", "replyUrls": [format!("https://a.com/{}", "x".repeat(250))]})).await.assert_error(400, "invalid_url", Some("replyUrls[0]"));
    create(json!({"displayName": "B", "replyUrls": ["http://evil.example/cb"]})).await.assert_error(400, "invalid_url", Some("replyUrls[0]"));
    create(json!({"displayName": "B", "replyUrls": ["https://b.com/cb", "https://B.com/cb"]})).await.assert_error(409, "reply_url_taken", Some("replyUrls[1]"));
    assert_eq!(app.get(&apps, &admin).await.ok()["items"].as_array().unwrap().len(), 1, "nothing was written");

    // The secret is shown once: 40 characters, the hint is its first three.
    assert_eq!(secret.len(), 40);
    let keys_path = format!("{apps}/{id}/keys");
    let k = app.post(&keys_path, &admin, json!({"validityMonths": 1, "displayName": "ci"})).await;
    assert_eq!(k.status, 201);
    assert_eq!(k.body["clientId"], app_id);
    assert_eq!(k.body["hint"], &k.body["secret"].as_str().unwrap()[..3]);
    app.post(&keys_path, &admin, json!({"validityMonths": 25})).await.assert_error(400, "invalid_validity", Some("validityMonths"));
    app.post(&keys_path, &admin, json!({"validityMonths": 0})).await.assert_error(400, "invalid_validity", Some("validityMonths"));
    let list = app.get(&keys_path, &admin).await;
    let listed = list.ok().as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    assert!(!list.body.to_string().contains(&secret), "the list never shows a key value");
    assert!(listed.iter().all(|k| k["createdAt"].is_string() && k["expiresAt"].is_string() && k["expired"] == false));
    let key_id = k.body["keyId"].as_str().unwrap();
    assert_eq!(app.delete(&format!("{keys_path}/{key_id}"), &admin).await.status, 204);
    app.delete(&format!("{keys_path}/{key_id}"), &admin).await.assert_error(404, "key_not_found", Some("keyId"));

    // Another tenant's admin cannot see the app.
    let owner = app.token("personal.onatrium.local", "owner", crate::helpers::OWNER_PASSWORD).await;
    let (other, other_admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    app.get(&format!("/api/v1/tenants/{other}/applications/{id}"), &other_admin).await.assert_error(404, "application_not_found", None);
    let r = app.patch(&format!("{apps}/{id}"), &admin, json!({"displayName": "Web 2", "appIdUri": null})).await;
    assert_eq!(r.ok()["displayName"], "Web 2");
    assert!(r.body.get("appIdUri").is_none());
    assert_eq!(app.delete(&format!("{apps}/{id}"), &admin).await.status, 204);
    let actions = app.audit_actions(&admin, &tid).await;
    for a in ["application.create", "application.key.add", "application.key.remove", "application.update", "application.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing");
    }
}

async fn client_credentials_and_its_errors(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap();
    let ok = token(&app, &tid, &[("grant_type", "client_credentials"), ("client_id", cid), ("client_secret", &secret), ("scope", "api://contoso-web/.default")]).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    assert_eq!(ok.1["token_type"], "Bearer");
    assert_eq!(ok.1["expires_in"], 3599);
    assert!(ok.1.get("refresh_token").is_none() && ok.1.get("id_token").is_none());
    let c = claims(ok.1["access_token"].as_str().unwrap());
    assert_eq!((c["aud"].as_str(), c["azp"].as_str(), c["tid"].as_str(), c["ver"].as_str()), (Some(cid), Some(cid), Some(tid.as_str()), Some("2.0")));
    assert_eq!(c["oid"], web["servicePrincipalId"]);
    assert_eq!(c["idtyp"], "app");
    assert!(c["iss"].as_str().unwrap().ends_with(&format!("/{tid}/v2.0")));

    // Basic authentication, and the tenant by domain.
    let basic = app
        .client
        .post(format!("{}/contoso.onatrium.local/oauth2/v2.0/token", app.base))
        .basic_auth(cid, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "https://graph.microsoft.com/.default")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let c = claims(basic.json::<Value>().await.unwrap()["access_token"].as_str().unwrap());
    assert_eq!((c["aud"].as_str(), c["ver"].as_str(), c["appid"].as_str()), (Some("https://graph.microsoft.com"), Some("1.0"), Some(cid)));

    let cc = |s: &str, scope: &str| vec![("grant_type", "client_credentials".to_owned()), ("client_id", cid.to_owned()), ("client_secret", s.to_owned()), ("scope", scope.to_owned())];
    let call = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let tid = tid.clone();
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(app, &tid, &f).await
        }
    };
    assert_aadsts(&call(cc("wrong-secret-value", "api://contoso-web/.default")).await, 401, "invalid_client", 7000215);
    assert_aadsts(&call(cc(&secret, "api://contoso-web")).await, 400, "invalid_scope", 1002012);
    assert_aadsts(&call(cc(&secret, "api://nothing-here/.default")).await, 400, "invalid_resource", 500011);
    assert_aadsts(&call(vec![("grant_type", "client_credentials".into()), ("client_id", cid.into()), ("scope", "api://contoso-web/.default".into())]).await, 401, "invalid_client", 7000218);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_aadsts(&call(vec![("grant_type", "client_credentials".into()), ("client_id", unknown), ("client_secret", secret.clone()), ("scope", "x/.default".into())]).await, 400, "unauthorized_client", 700016);
    let nowhere = token(&app, &uuid::Uuid::new_v4().to_string(), &[("grant_type", "client_credentials")]).await;
    assert_aadsts(&nowhere, 400, "invalid_request", 90002);

    // A 1-month key expires: the clock is injected, so this is exact.
    let short = app.post(&format!("/api/v1/tenants/{tid}/applications/{cid}/keys"), &admin, json!({"validityMonths": 1})).await;
    let short = short.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(call(cc(&short, "api://contoso-web/.default")).await.0, 200);
    app.clock.advance_seconds(31 * 86_400);
    assert_aadsts(&call(cc(&short, "api://contoso-web/.default")).await, 401, "invalid_client", 7000222);
    assert_eq!(call(cc(&secret, "api://contoso-web/.default")).await.0, 200, "the 24-month key still works");
}

async fn malformed_token_requests_get_oauth_errors(app: TestApp) {
    let (tid, _, web, secret) = setup(&app).await;
    let url = format!("{}/{tid}/oauth2/v2.0/token", app.base);
    let send = |body: String, ct: &'static str| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            let r = client.post(url).header("content-type", ct).header("client-request-id", "11111111-2222-3333-4444-555555555555").body(body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_aadsts(&send("".into(), "application/x-www-form-urlencoded").await, 400, "invalid_request", 900144);
    assert_aadsts(&send("grant_type=magic".into(), "application/x-www-form-urlencoded").await, 400, "unsupported_grant_type", 70003);
    assert_aadsts(&send(r#"{"grant_type":"client_credentials"}"#.into(), "application/json").await, 400, "invalid_request", 9002313);
    assert_aadsts(&send("grant_type=password&grant_type=client_credentials".into(), "application/x-www-form-urlencoded").await, 400, "invalid_request", 9002313);
    assert_aadsts(&send("grant_type=password&scope=openid".into(), "application/x-www-form-urlencoded").await, 400, "invalid_request", 900144);
    let big = format!("grant_type=client_credentials&x={}", "a".repeat(64 * 1024));
    let r = send(big, "application/x-www-form-urlencoded").await;
    assert!(r.0 < 500 && r.1["error"] == "invalid_request", "{:?}", r);
    let garbage = send("%%%&&&==".into(), "application/x-www-form-urlencoded").await;
    assert!(garbage.0 == 400, "{:?}", garbage);
    // The form endpoint never answers 500 to a random body.
    let cid = web["appId"].as_str().unwrap();
    let ok = send(format!("grant_type=client_credentials&client_id={cid}&client_secret={secret}&scope=api%3A%2F%2Fcontoso-web%2F.default"), "application/x-www-form-urlencoded; charset=utf-8").await;
    assert_eq!(ok.0, 200);
}

fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()) + "-verifier-with-enough-entropy";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Walks /authorize like a browser and returns the code.
async fn code(app: &TestApp, tid: &str, cid: &str, challenge: &str, try_wrong_password: bool) -> String {
    let q = [
        ("client_id", cid),
        ("response_type", "code"),
        ("redirect_uri", "https://web.contoso.com/cb"),
        ("scope", "User.Read openid offline_access"),
        ("state", "s-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let page = app.no_redirect.get(format!("{}/{tid}/oauth2/v2.0/authorize", app.base)).query(&q).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"username\"") && html.contains("<label for=\"password\">"), "{html}");
    let mut form: Vec<(&str, &str)> = q.to_vec();
    if try_wrong_password {
        // (Each failure counts towards the lockout, so only once.)
        let wrong = [form.clone(), vec![("username", "adele"), ("password", "nope")]].concat();
        let r = app.no_redirect.post(format!("{}/{tid}/oauth2/v2.0/authorize", app.base)).form(&wrong).send().await.unwrap();
        assert_eq!(r.status(), 401, "a wrong password shows the form again");
        assert!(r.headers().get("location").is_none());
        assert!(r.text().await.unwrap().contains("Your account or password is incorrect."));
    }
    form.extend([("username", "adele"), ("password", "Us3r-Passw0rd!")]);
    let r = app.no_redirect.post(format!("{}/{tid}/oauth2/v2.0/authorize", app.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("https://web.contoso.com/cb?code=") && loc.contains("&state=s-123"), "{loc}");
    let code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap();
    code.replace("%2D", "-").replace("%5F", "_")
}

async fn authorization_codes_are_single_use_bound_and_pkce_checked(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap();
    // An unregistered redirect URI is shown an error page and never redirected to.
    let r = app
        .no_redirect
        .get(format!("{}/{tid}/oauth2/v2.0/authorize", app.base))
        .query(&[("client_id", cid), ("response_type", "code"), ("redirect_uri", "https://evil.example/cb"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("AADSTS50011"));

    let other = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Other", "replyUrls": ["https://other.contoso.com/cb"]})).await;
    let other_id = other.body["appId"].as_str().unwrap().to_owned();
    let other_secret = app.post(&format!("/api/v1/tenants/{tid}/applications/{other_id}/keys"), &admin, json!({})).await.body["secret"].as_str().unwrap().to_owned();

    let redeem = |code: String, client: String, s: String, verifier: String| {
        let (app, tid) = (&app, tid.clone());
        async move {
            token(app, &tid, &[("grant_type", "authorization_code"), ("client_id", &client), ("client_secret", &s), ("code", &code),
                               ("redirect_uri", "https://web.contoso.com/cb"), ("code_verifier", &verifier), ("scope", "User.Read openid offline_access")]).await
        }
    };
    // Redeemed by another client: refused.
    let (v, ch) = pkce();
    let c = code(&app, &tid, cid, &ch, true).await;
    assert_eq!(redeem(c, other_id.clone(), other_secret.clone(), v).await.1["error"], "invalid_grant");
    // A PKCE mismatch.
    let (_, ch) = pkce();
    let c = code(&app, &tid, cid, &ch, false).await;
    assert_aadsts(&redeem(c, cid.into(), secret.clone(), "not-the-verifier".into()).await, 400, "invalid_grant", 501481);
    // Success, then a replay: the second use fails and revokes the tokens of the first.
    let (v, ch) = pkce();
    let c = code(&app, &tid, cid, &ch, false).await;
    let ok = redeem(c.clone(), cid.into(), secret.clone(), v.clone()).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let id = claims(ok.1["id_token"].as_str().unwrap());
    assert_eq!((id["aud"].as_str(), id["nonce"].as_str(), id["tid"].as_str()), (Some(cid), Some("n-456"), Some(tid.as_str())));
    assert_eq!(id["preferred_username"], "adele@contoso.onatrium.local");
    let at = claims(ok.1["access_token"].as_str().unwrap());
    assert_eq!((at["scp"].as_str(), at["aud"].as_str()), (Some("User.Read"), Some("https://graph.microsoft.com")));
    let client_info: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(ok.1["client_info"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(client_info["utid"], tid.as_str());
    let rt = ok.1["refresh_token"].as_str().unwrap().to_owned();
    assert_aadsts(&redeem(c, cid.into(), secret.clone(), v).await, 400, "invalid_grant", 54005);
    let refreshed = token(&app, &tid, &[("grant_type", "refresh_token"), ("client_id", cid), ("client_secret", &secret), ("refresh_token", &rt)]).await;
    assert_eq!(refreshed.1["error"], "invalid_grant", "tokens from a replayed code are revoked: {}", refreshed.1);
    // Codes expire after ten minutes.
    let (v, ch) = pkce();
    let c = code(&app, &tid, cid, &ch, false).await;
    app.clock.advance_seconds(601);
    assert_aadsts(&redeem(c, cid.into(), secret, v).await, 400, "invalid_grant", 70008);
}

async fn refresh_tokens_rotate_and_die_with_the_user(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap();
    let ropc = |password: &'static str| {
        let (app, tid, cid, secret) = (&app, tid.clone(), cid.to_owned(), secret.clone());
        async move {
            token(app, &tid, &[("grant_type", "password"), ("client_id", &cid), ("client_secret", &secret), ("username", "adele@contoso.onatrium.local"),
                               ("password", password), ("scope", "User.Read offline_access openid profile")]).await
        }
    };
    assert_aadsts(&ropc("wrong").await, 400, "invalid_grant", 50126);
    let first = ropc("Us3r-Passw0rd!").await;
    assert_eq!(first.0, 200, "{}", first.1);
    let rt1 = first.1["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| {
        let (app, tid, cid, secret) = (&app, tid.clone(), cid.to_owned(), secret.clone());
        async move { token(app, &tid, &[("grant_type", "refresh_token"), ("client_id", &cid), ("client_secret", &secret), ("refresh_token", &rt)]).await }
    };
    let second = refresh(rt1.clone()).await;
    assert_eq!(second.0, 200, "{}", second.1);
    let rt2 = second.1["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2, "refresh tokens rotate");
    // Reusing the spent token revokes the family, so the newer one dies too.
    assert_eq!(refresh(rt1).await.1["error"], "invalid_grant");
    assert_eq!(refresh(rt2).await.1["error"], "invalid_grant");

    // Disabling the user revokes their refresh tokens.
    let rt3 = ropc("Us3r-Passw0rd!").await.1["refresh_token"].as_str().unwrap().to_owned();
    let adele = app.get(&format!("/api/v1/tenants/{tid}/users/adele"), &admin).await.body["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/v1/tenants/{tid}/users/{adele}"), &admin, json!({"enabled": false})).await.ok();
    assert_eq!(refresh(rt3).await.1["error"], "invalid_grant");
    assert_aadsts(&ropc("Us3r-Passw0rd!").await, 400, "invalid_grant", 50057);
}

/// Many password grants at once: each hashes a password and writes, and none may hold a pooled
/// connection while waiting for another (that would stall the pool until its timeout).
async fn concurrent_password_grants_do_not_starve_the_pool(app: TestApp) {
    let (tid, _, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let (client, url, cid, secret) = (app.client.clone(), format!("{}/{tid}/oauth2/v2.0/token", app.base), cid.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let form = [("grant_type", "password"), ("client_id", cid.as_str()), ("client_secret", secret.as_str()),
                        ("username", "adele"), ("password", "Us3r-Passw0rd!"), ("scope", "User.Read offline_access")];
            client.post(url).form(&form).send().await.unwrap().status().as_u16()
        }));
    }
    // A starved pool ends in acquire timeouts, which answer 500: every request must succeed.
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}
