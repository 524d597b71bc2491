//! Passkeys (WebAuthn) with a software authenticator written here (P-256 key, "none"
//! attestation, CBOR by hand; signatures by aws-lc-rs), so full ceremonies run without a
//! browser and the server's real verifier (webauthn-rs) checks them: registration, passwordless
//! sign-in on the API, the console and the authorize page (`amr` `fido mfa`, `acr` 2), names,
//! only one's own passkeys, an administrator's reset, ceremonies single-use and expiring by the
//! injected clock, a cloned authenticator's old counter, sign-in logs, and IP addresses refused
//! as relying parties.

use crate::helpers::TestApp;
use crate::identity::{setup, token};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

api_tests!(
    passkeys_register_sign_in_rename_and_remove,
    passkey_ceremonies_are_single_use_and_expire,
    passkeys_are_ones_own_and_an_admin_reset_clears_them,
    passkey_sign_in_on_the_authorize_page_and_console,
    passkey_sign_ins_are_logged,
    passkeys_need_a_host_name,
);

const PW: &str = "Us3r-Passw0rd!";
const TENANT: &str = "contoso.onatrium.local";

// ------------------------------------------------------------------ a software authenticator

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 { cbor_head(out, 0, v as u64) } else { cbor_head(out, 1, (-1 - v) as u64) }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).unwrap()
}

/// One passkey on a software authenticator that verifies its user (the UV flag).
pub(crate) struct SoftPasskey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    origin: String,
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create()` with these options (`publicKey`).
    pub(crate) fn create(options: &Value, origin: &str) -> (SoftPasskey, Value) {
        let rp_id = options["rp"]["id"].as_str().unwrap();
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut credential_id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut credential_id).unwrap();
        let point = key.public_key().as_ref().to_vec(); // 0x04 || x || y
        let mut cose = Vec::new();
        cbor_head(&mut cose, 5, 5);
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut cose, k);
            cbor_int(&mut cose, v);
        }
        cbor_int(&mut cose, -2);
        cbor_bytes(&mut cose, &point[1..33]);
        cbor_int(&mut cose, -3);
        cbor_bytes(&mut cose, &point[33..65]);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x45); // user present, user verified, attested credential data
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&credential_id);
        auth_data.extend(cose);
        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let client_data = json!({"type": "webauthn.create", "challenge": options["challenge"], "origin": origin, "crossOrigin": false}).to_string();
        let credential = json!({
            "id": b64(&credential_id), "rawId": b64(&credential_id), "type": "public-key",
            "response": {"attestationObject": b64(&attestation), "clientDataJSON": b64(client_data.as_bytes())},
            "extensions": {},
        });
        let user_handle = unb64(options["user"]["id"].as_str().unwrap());
        (SoftPasskey { key, credential_id, user_handle, counter: 0, origin: origin.to_owned() }, credential)
    }

    /// Answers `navigator.credentials.get()` with these options (`publicKey`), counting up.
    pub(crate) fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.get_with_counter(options, self.counter)
    }

    fn get_with_counter(&self, options: &Value, counter: u32) -> Value {
        let rp_id = options["rpId"].as_str().unwrap();
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x05); // user present, user verified
        auth_data.extend(counter.to_be_bytes());
        let client_data = json!({"type": "webauthn.get", "challenge": options["challenge"], "origin": self.origin, "crossOrigin": false}).to_string();
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(client_data.as_bytes()));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": b64(&self.credential_id), "rawId": b64(&self.credential_id), "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data), "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(signature.as_ref()), "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

// ------------------------------------------------------------------ helpers

async fn contoso_with_adele(app: &TestApp) -> (String, String, String) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    let token = app.token(TENANT, "adele", PW).await;
    (tid, admin, token)
}

/// Registers a passkey for `token`'s user (named `name` when given) and returns it.
pub(crate) async fn register(app: &TestApp, token: &str, name: Option<&str>) -> (SoftPasskey, Value) {
    let begun = app.post("/api/v1/me/passkeys/begin", token, json!({})).await;
    let begun = begun.ok().clone();
    let (key, credential) = SoftPasskey::create(&begun["publicKey"], &app.base);
    let mut body = json!({"ceremonyId": begun["ceremonyId"], "credential": credential});
    if let Some(n) = name {
        body["name"] = json!(n);
    }
    let r = app.post("/api/v1/me/passkeys", token, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (key, r.body)
}

/// Begins a passkey sign-in: (ceremony id, `publicKey` options).
async fn begin_sign_in(app: &TestApp, body: Value) -> (String, Value) {
    let r = app.request(Method::POST, "/api/v1/sign-in/passkey/begin", None, Some(body)).await;
    let b = r.ok();
    (b["ceremonyId"].as_str().unwrap().to_owned(), b["publicKey"].clone())
}

async fn finish_sign_in(app: &TestApp, ceremony: &str, credential: Value) -> crate::helpers::Res {
    app.request(Method::POST, "/api/v1/sign-in/passkey", None, Some(json!({"ceremonyId": ceremony, "credential": credential}))).await
}

async fn passkey_sign_in(app: &TestApp, key: &mut SoftPasskey) -> crate::helpers::Res {
    let (ceremony, options) = begin_sign_in(app, json!({})).await;
    let assertion = key.get(&options);
    finish_sign_in(app, &ceremony, assertion).await
}

fn claims(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

// ------------------------------------------------------------------ tests

async fn passkeys_register_sign_in_rename_and_remove(app: TestApp) {
    let (tid, admin, token) = contoso_with_adele(&app).await;
    assert_eq!(app.get("/api/v1/me/passkeys", &token).await.ok()["value"], json!([]));
    // The creation options: this host as the relying party, the user, a discoverable key with
    // user verification.
    let begun = app.post("/api/v1/me/passkeys/begin", &token, json!({})).await;
    let o = &begun.ok()["publicKey"];
    assert_eq!(o["rp"]["id"], "localhost");
    assert_eq!(o["user"]["name"], format!("adele@{TENANT}"));
    assert_eq!(o["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(o["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(begun.headers["cache-control"], "no-store");

    let (mut laptop, first) = register(&app, &token, None).await;
    assert_eq!(first["name"], "Passkey 1");
    assert!(first.get("lastUsedDateTime").is_none());
    // (The test clock stands still unless moved: a second apart, they list in this order.)
    app.clock.advance_seconds(1);
    let (_, second) = register(&app, &token, Some("  Phone  ")).await;
    assert_eq!(second["name"], "Phone");
    app.clock.advance_seconds(1);
    let (_, third) = register(&app, &token, None).await;
    assert_eq!(third["name"], "Passkey 3");
    // The same authenticator's credential again: the options exclude it, and it is refused.
    let begun = app.post("/api/v1/me/passkeys/begin", &token, json!({})).await.ok().clone();
    let excluded: Vec<&str> = begun["publicKey"]["excludeCredentials"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(excluded.contains(&b64(&laptop.credential_id).as_str()), "{excluded:?}");

    // Passwordless sign-in: the same session a password gives.
    let r = passkey_sign_in(&app, &mut laptop).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["userPrincipalName"], format!("adele@{TENANT}"));
    assert!(r.headers.get(SET_COOKIE).unwrap().to_str().unwrap().starts_with("atrium_session="));
    let session = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &session).await.ok()["user"]["userPrincipalName"], format!("adele@{TENANT}"));
    let list = app.get("/api/v1/me/passkeys", &token).await.ok()["value"].clone();
    assert_eq!(list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Passkey 1", "Phone", "Passkey 3"]);
    assert!(list[0]["lastUsedDateTime"].is_string(), "{list}");
    assert!(list[1].get("lastUsedDateTime").is_none());

    // Rename: 1–64 characters, the field named on error.
    let id = first["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/me/passkeys/{id}"), &token, json!({"name": "   "})).await.assert_error(400, "invalid_name", Some("name"));
    app.patch(&format!("/api/v1/me/passkeys/{id}"), &token, json!({"name": "x".repeat(65)})).await.assert_error(400, "invalid_name", Some("name"));
    let r = app.patch(&format!("/api/v1/me/passkeys/{id}"), &token, json!({"name": "Work laptop"})).await;
    assert_eq!(r.ok()["name"], "Work laptop");
    app.patch("/api/v1/me/passkeys/not-a-guid", &token, json!({"name": "x"})).await.assert_error(400, "invalid_id", Some("passkeyId"));

    // Remove: it no longer signs in.
    let r = app.delete(&format!("/api/v1/me/passkeys/{id}"), &token).await;
    assert_eq!(r.status, 204);
    app.delete(&format!("/api/v1/me/passkeys/{id}"), &token).await.assert_error(404, "passkey_not_found", Some("passkeyId"));
    passkey_sign_in(&app, &mut laptop).await.assert_error(401, "invalid_passkey", Some("credential"));
    assert_eq!(app.get("/api/v1/me/passkeys", &token).await.ok()["value"].as_array().unwrap().len(), 2);

    let actions = app.audit_actions(&admin, &tid).await;
    for a in ["user.passkey.register", "user.passkey.rename", "user.passkey.delete", "user.passkey.sign_in"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

async fn passkey_ceremonies_are_single_use_and_expire(app: TestApp) {
    let (_, admin, token) = contoso_with_adele(&app).await;
    let (mut key, _) = register(&app, &token, None).await;

    // A sign-in ceremony works once: the same answer again is refused, naming the field.
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let assertion = key.get(&options);
    assert_eq!(finish_sign_in(&app, &ceremony, assertion.clone()).await.status, 200);
    finish_sign_in(&app, &ceremony, assertion).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    // Unknown and malformed ids alike.
    let other = uuid::Uuid::new_v4().to_string();
    finish_sign_in(&app, &other, key.get(&options)).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    finish_sign_in(&app, "nope", key.get(&options)).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    // A failed answer spends the ceremony too: no second try with the same challenge.
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let mut bad = key.get(&options);
    bad["response"]["signature"] = json!(b64(b"not a signature"));
    finish_sign_in(&app, &ceremony, bad).await.assert_error(401, "invalid_passkey", Some("credential"));
    finish_sign_in(&app, &ceremony, key.get(&options)).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));

    // Ceremonies expire after five minutes of the server's clock.
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    app.clock.advance_seconds(301);
    finish_sign_in(&app, &ceremony, key.get(&options)).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    let token = app.token(TENANT, "adele", PW).await; // the session outlived the clock too
    let begun = app.post("/api/v1/me/passkeys/begin", &token, json!({})).await.ok().clone();
    app.clock.advance_seconds(301);
    let (_, credential) = SoftPasskey::create(&begun["publicKey"], &app.base);
    let token = app.token(TENANT, "adele", PW).await;
    let r = app.post("/api/v1/me/passkeys", &token, json!({"ceremonyId": begun["ceremonyId"], "credential": credential})).await;
    r.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));

    // A registration ceremony is its user's: another user's session cannot finish it, and a
    // sign-in ceremony is not a registration.
    let begun = app.post("/api/v1/me/passkeys/begin", &token, json!({})).await.ok().clone();
    let (_, credential) = SoftPasskey::create(&begun["publicKey"], &app.base);
    let r = app.post("/api/v1/me/passkeys", &admin, json!({"ceremonyId": begun["ceremonyId"], "credential": credential})).await;
    r.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let (_, credential) = SoftPasskey::create(&json!({"rp": {"id": options["rpId"]}, "challenge": options["challenge"], "user": {"id": b64(b"x")}}), &app.base);
    app.post("/api/v1/me/passkeys", &token, json!({"ceremonyId": ceremony, "credential": credential})).await.assert_error(400, "passkey_ceremony_not_found", Some("ceremonyId"));
    // A malformed credential names the field; the ceremony is spent.
    let begun = app.post("/api/v1/me/passkeys/begin", &token, json!({})).await.ok().clone();
    let r = app.post("/api/v1/me/passkeys", &token, json!({"ceremonyId": begun["ceremonyId"], "credential": {"id": "x"}})).await;
    r.assert_error(400, "passkey_rejected", Some("credential"));
    app.post("/api/v1/me/passkeys", &token, json!({"ceremonyId": begun["ceremonyId"], "credential": {}, "bogus": 1})).await.assert_error(400, "unknown_field", None);

    // A cloned authenticator replaying an older signature counter is refused.
    assert_eq!(passkey_sign_in(&app, &mut key).await.status, 200);
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let old = key.get_with_counter(&options, 1);
    finish_sign_in(&app, &ceremony, old).await.assert_error(401, "invalid_passkey", Some("credential"));

    // Two finishes of one ceremony at once: exactly one signs in.
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let assertion = key.get(&options);
    let (a, b) = tokio::join!(finish_sign_in(&app, &ceremony, assertion.clone()), finish_sign_in(&app, &ceremony, assertion));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} / {}", a.body, b.body);
}

async fn passkeys_are_ones_own_and_an_admin_reset_clears_them(app: TestApp) {
    let (tid, admin, adele) = contoso_with_adele(&app).await;
    app.create_user(&admin, &tid, "bob").await;
    let bob = app.token(TENANT, "bob", PW).await;
    let (mut key, p) = register(&app, &adele, Some("Adele's key")).await;
    let id = p["id"].as_str().unwrap();
    // Bob sees none of Adele's passkeys and cannot rename or remove them.
    assert_eq!(app.get("/api/v1/me/passkeys", &bob).await.ok()["value"], json!([]));
    app.patch(&format!("/api/v1/me/passkeys/{id}"), &bob, json!({"name": "Mine"})).await.assert_error(404, "passkey_not_found", Some("passkeyId"));
    app.delete(&format!("/api/v1/me/passkeys/{id}"), &bob).await.assert_error(404, "passkey_not_found", Some("passkeyId"));
    assert_eq!(app.get("/api/v1/me/passkeys", &adele).await.ok()["value"][0]["name"], "Adele's key");
    // Without a session nothing is listed.
    assert_eq!(app.request(Method::GET, "/api/v1/me/passkeys", None, None).await.status, 401);

    // Bob cannot reset Adele's methods; her global admin can, and her passkey stops working.
    let adele_id = app.get("/api/v1/me", &adele).await.ok()["user"]["id"].as_str().unwrap().to_owned();
    let reset = format!("/api/v1/tenants/{tid}/users/{adele_id}/mfa/reset");
    assert_eq!(app.post(&reset, &bob, json!({})).await.status, 403);
    assert_eq!(app.post(&reset, &admin, json!({})).await.status, 204);
    assert_eq!(app.get("/api/v1/me/passkeys", &adele).await.ok()["value"], json!([]));
    passkey_sign_in(&app, &mut key).await.assert_error(401, "invalid_passkey", Some("credential"));
    assert!(app.audit_actions(&admin, &tid).await.iter().any(|a| a == "user.mfa.reset"));
}

fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key).unwrap_or_else(|| panic!("no {name} in {html}")) + key.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn passkey_sign_in_on_the_authorize_page_and_console(app: TestApp) {
    let (tid, admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap().to_owned();
    let adele = app.token(TENANT, "adele", PW).await;
    let (mut key, _) = register(&app, &adele, None).await;

    // The authorize page offers the passkey (its script is a file of this origin) and ends in
    // the same code redirect as a password.
    let q = [("client_id", cid.as_str()), ("response_type", "code"), ("redirect_uri", "https://web.contoso.com/cb"), ("scope", "User.Read openid offline_access"), ("state", "s-1")];
    let url = format!("{}/{tid}/oauth2/v2.0/authorize", app.base);
    let page = app.no_redirect.get(&url).query(&q).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline'; script") && !csp.contains("script-src 'unsafe-inline'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with a passkey") && html.contains("<script src=\"/static/passkeys.js\" defer></script>"), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "no inline script");
    let js = app.client.get(format!("{}/static/passkeys.js", app.base)).send().await.unwrap();
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("navigator.credentials.get"));

    let authorize = |ceremony: String, credential: Value| {
        let mut form: Vec<(String, String)> = q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        form.extend([("passkey_ceremony".to_owned(), ceremony), ("passkey_credential".to_owned(), credential.to_string())]);
        let (client, url) = (app.no_redirect.clone(), url.clone());
        async move { client.post(&url).form(&form).send().await.unwrap() }
    };
    // A ceremony begun for another tenant (or none) is refused on this tenant's page.
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let r = authorize(ceremony, key.get(&options)).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("took too long"));
    let (ceremony, options) = begin_sign_in(&app, json!({"tenant": TENANT})).await;
    let r = authorize(ceremony, key.get(&options)).await;
    assert_eq!(r.status(), 302);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(loc.starts_with("https://web.contoso.com/cb?code=") && loc.contains("state=s-1"), "{loc}");
    let code = loc.split("code=").nth(1).unwrap().split('&').next().unwrap().replace("%2D", "-").replace("%5F", "_");
    let (status, body) = token(&app, &tid, &[("grant_type", "authorization_code"), ("client_id", &cid), ("client_secret", &secret), ("code", &code), ("redirect_uri", "https://web.contoso.com/cb")]).await;
    assert_eq!(status, 200, "{body}");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!((at["amr"].clone(), at["acr"].clone()), (json!(["fido", "mfa"]), json!("2")));
    assert_eq!(claims(body["id_token"].as_str().unwrap())["amr"], json!(["fido", "mfa"]));
    // A ceremony begun for another tenant is refused on this tenant's page, and a passkey of
    // another tenant's user does not sign in to that tenant.
    let owner = app.token("personal.onatrium.local", &app.owner_upn, crate::helpers::OWNER_PASSWORD).await;
    let (fab_tid, _) = app.tenant_with_admin(&owner, "fabrikam").await;
    let (ceremony, options) = begin_sign_in(&app, json!({"tenant": fab_tid})).await;
    let r = authorize(ceremony, key.get(&options)).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get(LOCATION).is_none());
    let (ceremony, options) = begin_sign_in(&app, json!({"tenant": "fabrikam.onatrium.local"})).await;
    finish_sign_in(&app, &ceremony, key.get(&options)).await.assert_error(401, "invalid_passkey", Some("credential"));

    // The console: the sign-in page offers it; the form ends signed in, at the accounts page.
    let page = app.client.get(format!("{}/sign-in", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign in with a passkey") && page.contains("/static/passkeys.js"), "{page}");
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let form = [("passkey_ceremony", ceremony), ("passkey_credential", key.get(&options).to_string())];
    let r = app.no_redirect.post(format!("{}/sign-in", app.base)).header(ORIGIN, &app.base).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()[LOCATION], "/accounts");
    let cookie = r.headers().get_all(SET_COOKIE).iter().map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned()).find(|c| c.starts_with("atrium_session=")).unwrap();
    // The security page lists the passkey, with rename and a remove that asks first.
    let page = app.client.get(format!("{}/security-info", app.base)).header(COOKIE, &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Passkeys") && page.contains("Passkey 1") && page.contains("Add a passkey"), "{page}");
    let id = app.get("/api/v1/me/passkeys", &adele).await.ok()["value"][0]["id"].as_str().unwrap().to_owned();
    let csrf = hidden(&page, "csrf");
    let r = app
        .no_redirect
        .post(format!("{}/security-info/passkeys/{id}/rename", app.base))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &app.base)
        .form(&[("csrf", csrf.as_str()), ("name", "Kitchen tablet")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let confirm = app.client.get(format!("{}/security-info/passkeys/{id}/remove", app.base)).header(COOKIE, &cookie).send().await.unwrap().text().await.unwrap();
    assert!(confirm.contains("Remove passkey Kitchen tablet?"), "{confirm}");
    let r = app
        .no_redirect
        .post(format!("{}/security-info/passkeys/{id}/remove", app.base))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &app.base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.get("/api/v1/me/passkeys", &adele).await.ok()["value"], json!([]));
    let _ = admin;
}

async fn passkey_sign_ins_are_logged(app: TestApp) {
    let (tid, admin, adele) = contoso_with_adele(&app).await;
    let (mut key, _) = register(&app, &adele, None).await;
    assert_eq!(passkey_sign_in(&app, &mut key).await.status, 200);
    let (ceremony, options) = begin_sign_in(&app, json!({})).await;
    let mut bad = key.get(&options);
    bad["response"]["signature"] = json!(b64(b"forged"));
    finish_sign_in(&app, &ceremony, bad).await.assert_error(401, "invalid_passkey", Some("credential"));
    let path = format!("/api/v1/sign-ins?tenantId={tid}");
    let mut items = Vec::new();
    for _ in 0..100 {
        items = app.get(&path, &admin).await.ok()["items"].as_array().unwrap().clone();
        // Adele's password sign-in (for the session above), the passkey one, the failed one.
        let adele = |e: &&Value| e["userPrincipalName"] == format!("adele@{TENANT}") && e["appDisplayName"] == "Atrium";
        if items.iter().filter(adele).count() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let ok = items.iter().find(|e| e["userPrincipalName"] == format!("adele@{TENANT}") && e["status"]["errorCode"] == 0 && e["mfaUsed"] == true);
    assert!(ok.is_some(), "a successful passkey sign-in, multi-factor: {items:#?}");
    let failed = items.iter().find(|e| e["userPrincipalName"] == format!("adele@{TENANT}") && e["status"]["errorCode"] == 500121);
    assert!(failed.is_some_and(|f| f["mfaUsed"] == false), "a failed assertion: {items:#?}");
}

async fn passkeys_need_a_host_name(app: TestApp) {
    let (_, _, token) = contoso_with_adele(&app).await;
    // The same server reached at its IP address: browsers refuse IP addresses as relying
    // parties, so the server says what to do instead.
    let port = app.base.rsplit(':').next().unwrap();
    let ip = format!("https://127.0.0.1:{port}");
    let r = app.client.post(format!("{ip}/api/v1/sign-in/passkey/begin")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "passkeys_unavailable", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("host name"), "{body}");
    let r = app.client.post(format!("{ip}/api/v1/me/passkeys/begin")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // An unknown tenant is named.
    let r = app.request(Method::POST, "/api/v1/sign-in/passkey/begin", None, Some(json!({"tenant": "nowhere.example"}))).await;
    r.assert_error(404, "tenant_not_found", Some("tenant"));
}
