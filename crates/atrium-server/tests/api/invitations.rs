//! Guest invitations (seed 002 "Invite outside users", R11) and the mail outbox, against a real
//! SMTP server process (aiosmtpd), on both backends.

use crate::accounts::account_with_manager;
use crate::helpers::{TestApp, spawn_app_with};
use crate::smtp::{SmtpSink, redeem_link};
use atrium_store::testing::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// Generates `<name>::sqlite` and `<name>::postgres` from `async fn <name>(app, sink)`, with
/// the app delivering mail to a fresh sink.
macro_rules! mail_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let sink = crate::smtp::SmtpSink::start().await;
                super::$name(super::mail_app(atrium_store::testing::Backend::Sqlite, &sink).await, sink).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let sink = crate::smtp::SmtpSink::start().await;
                super::$name(super::mail_app(atrium_store::testing::Backend::Postgres, &sink).await, sink).await;
            }
        }
    )*};
}

mail_tests!(seed_002_invite_outside_users, bad_invitations_write_nothing, smtp_outage_then_delivered_exactly_once, graph_invitations);

pub async fn mail_app(backend: Backend, sink: &SmtpSink) -> TestApp {
    let port = sink.port;
    spawn_app_with(backend, move |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = Some(port);
        c.smtp_security = "none".into();
        c.smtp_timeout_seconds = 5;
        c.mail_poll_millis = 50;
        c.mail_retry_seconds = 60;
        c.mail_max_attempts = 3;
    })
    .await
}

fn recipient(mail: &str) -> &str {
    mail.lines().next().unwrap().trim_start_matches("X-Envelope-To: ").trim()
}

fn mail_to<'a>(mails: &'a [String], to: &str) -> Vec<&'a String> {
    mails.iter().filter(|m| recipient(m) == to).collect()
}

/// GETs a page (no bearer), returning status and body text.
async fn page(app: &TestApp, url: &str) -> (StatusCode, String) {
    let r = app.no_redirect.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Posts the redemption form; returns status, Location and body.
async fn redeem(app: &TestApp, link: &str, password: &str, confirm: &str) -> (StatusCode, Option<String>, String) {
    let token = link.split("token=").nth(1).unwrap();
    let r = app
        .no_redirect
        .post(format!("{}/invitations/redeem", app.base))
        .header("origin", &app.base)
        .form(&[("token", token), ("password", password), ("confirm", confirm)])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, location, r.text().await.unwrap())
}

async fn members(app: &TestApp, token: &str, acc: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/accounts/{acc}/members"), token).await.ok().as_array().unwrap().clone()
}

async fn invitations(app: &TestApp, token: &str, acc: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/accounts/{acc}/invitations"), token).await.ok()["value"].as_array().unwrap().clone()
}

async fn outbox(app: &TestApp, owner: &str) -> Vec<Value> {
    app.get("/api/v1/mail", owner).await.ok().as_array().unwrap().clone()
}

async fn seed_002_invite_outside_users(app: TestApp, sink: SmtpSink) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let url = format!("/api/v1/accounts/{acc}/invitations");

    // Two addresses, separated and padded the way people type them.
    let r = app.post(&url, &admin, json!({"emails": " alice@example.com ;bob@example.org ", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sent = r.body["value"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|i| i["status"] == "pending"));
    // Whoever invites never sees the guest's link: it is in the mail only.
    assert!(!r.body.to_string().contains("inv_"));

    // The guests exist at once, with their access, shown as "Invitation pending".
    let list = members(&app, &admin, &acc).await;
    let pending: Vec<&Value> = list.iter().filter(|m| m["status"] == "Invitation pending").collect();
    assert_eq!(pending.len(), 2, "{list:?}");
    assert!(pending.iter().all(|m| m["grant"]["roles"] == json!(["developer"])));
    assert!(pending.iter().any(|m| m["identifier"] == "alice_example.com#EXT#@contoso.onatrium.local"));
    // ...but cannot sign in before accepting.
    app.sign_in("contoso.onatrium.local", "alice@example.com", "Guest-Passw0rd!").await.assert_error(401, "invalid_credentials", None);

    // The mails arrive through SMTP, one per address, with text and HTML parts.
    let mails = sink.wait_for(2).await;
    let alice_mail = mail_to(&mails, "alice@example.com")[0].clone();
    assert_eq!(mail_to(&mails, "bob@example.org").len(), 1);
    assert!(alice_mail.contains("Subject: Ada Admin invited you to access Contoso Games"), "{alice_mail}");
    assert!(alice_mail.contains("text/plain") && alice_mail.contains("text/html"));
    let link = redeem_link(&alice_mail);
    assert!(link.starts_with(&app.base), "{link}");

    // The redemption page names the organization and the address.
    let (status, body) = page(&app, &link).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Accept your invitation") && body.contains("alice@example.com") && body.contains("Tenant contoso"));
    // Mistakes are shown on the form and use nothing up.
    let (status, _, body) = redeem(&app, &link, "Guest-Passw0rd!", "Guest-Passw0rd?").await;
    assert_eq!(status, 400);
    assert!(body.contains("do not match"), "{body}");
    let (status, _, body) = redeem(&app, &link, "short", "short").await;
    assert_eq!(status, 400);
    assert!(body.contains("complexity"), "{body}");
    // Accepted once...
    let (status, _, body) = redeem(&app, &link, "Guest-Passw0rd!", "Guest-Passw0rd!").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("You're all set"), "{body}");
    // ...and never again.
    let (status, _, body) = redeem(&app, &link, "Other-Passw0rd!", "Other-Passw0rd!").await;
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("already accepted"), "{body}");
    assert_eq!(page(&app, &link).await.0, 410);

    // The guest signs in with their own address and has the Developer access.
    let alice = app.token("contoso.onatrium.local", "alice@example.com", "Guest-Passw0rd!").await;
    let me = app.get("/api/v1/me", &alice).await;
    assert_eq!(me.ok()["user"]["userType"], "Guest", "{}", me.body);
    app.get(&format!("/api/v1/accounts/{acc}"), &alice).await.ok();
    let list = members(&app, &admin, &acc).await;
    let alice_row = list.iter().find(|m| m["identifier"] == "alice_example.com#EXT#@contoso.onatrium.local").unwrap();
    assert!(alice_row.get("status").is_none(), "{alice_row}");

    // Resend: a new link arrives, and the old one stops working.
    let bob_link = redeem_link(mail_to(&mails, "bob@example.org")[0]);
    let invs = invitations(&app, &admin, &acc).await;
    let bob_inv = invs.iter().find(|i| i["email"] == "bob@example.org").unwrap()["id"].as_str().unwrap().to_owned();
    let alice_inv = invs.iter().find(|i| i["email"] == "alice@example.com").unwrap()["id"].as_str().unwrap().to_owned();
    // A pending guest has no password to reset: resending is the way.
    let bob_user = invs.iter().find(|i| i["email"] == "bob@example.org").unwrap()["userId"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/accounts/{acc}/members/user/{bob_user}/reset-password"), &admin, json!({}))
        .await
        .assert_error(409, "guest_not_accepted", Some("principalId"));
    let r = app.post(&format!("{url}/{bob_inv}/resend"), &admin, json!({})).await;
    assert_eq!(r.ok()["resendCount"], 1);
    app.post(&format!("{url}/{alice_inv}/resend"), &admin, json!({})).await.assert_error(409, "invitation_not_pending", None);
    let mails = sink.wait_for(3).await;
    let bob_mails = mail_to(&mails, "bob@example.org");
    assert_eq!(bob_mails.len(), 2);
    let new_bob_link = redeem_link(bob_mails[1]);
    assert_ne!(new_bob_link, bob_link);
    let (status, body) = page(&app, &bob_link).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("replaced by a newer invitation"), "{body}");
    assert_eq!(redeem(&app, &new_bob_link, "Bob-Passw0rd!!", "Bob-Passw0rd!!").await.0, 200);
    app.token("contoso.onatrium.local", "bob@example.org", "Bob-Passw0rd!!").await;

    // Revoke: the link dies and the guest, who never signed in, is gone with its access.
    let r = app.post(&url, &admin, json!({"emails": ["carol@example.net"], "grant": {"roles": ["marketer"]}, "inviteRedirectUrl": "https://app.example.com/welcome"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let carol_inv = r.body["value"][0]["id"].as_str().unwrap().to_owned();
    let carol_user = r.body["value"][0]["userId"].as_str().unwrap().to_owned();
    let mails = sink.wait_for(4).await;
    let carol_link = redeem_link(mail_to(&mails, "carol@example.net")[0]);
    let r = app.post(&format!("{url}/{carol_inv}/revoke"), &admin, json!({})).await;
    assert_eq!(r.ok()["status"], "revoked");
    assert_eq!(page(&app, &carol_link).await.0, 410);
    assert!(!members(&app, &admin, &acc).await.iter().any(|m| m["id"] == carol_user));
    app.get(&format!("/api/v1/tenants/{tid}/users/{carol_user}"), &admin).await.assert_error(404, "user_not_found", None);
    app.post(&format!("{url}/{carol_inv}/revoke"), &admin, json!({})).await.assert_error(409, "invitation_not_pending", None);

    // A redirect URL is honoured after accepting.
    let r = app.post(&url, &admin, json!({"emails": "dan@example.net", "grant": {"roles": ["developer"]}, "inviteRedirectUrl": "https://app.example.com/welcome"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mails = sink.wait_for(5).await;
    let (status, location, _) = redeem(&app, &redeem_link(mail_to(&mails, "dan@example.net")[0]), "Dan-Passw0rd!!", "Dan-Passw0rd!!").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("https://app.example.com/welcome"));

    // Status of every invitation and its mail.
    let invs = invitations(&app, &admin, &acc).await;
    let status_of = |e: &str| invs.iter().find(|i| i["email"] == e).unwrap()["status"].as_str().unwrap().to_owned();
    assert_eq!(status_of("alice@example.com"), "accepted");
    assert_eq!(status_of("bob@example.org"), "accepted");
    assert_eq!(status_of("carol@example.net"), "revoked");
    assert!(invs.iter().all(|i| i["mail"]["status"] == "sent"), "{invs:?}");

    // Passwords are never mailed: creating a user and resetting a password queue nothing.
    let before = outbox(&app, &owner).await.len();
    let r = app.post(&format!("/api/v1/accounts/{acc}/members/users"), &admin, json!({"userPrincipalName": "erin", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let erin = r.body["user"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/accounts/{acc}/members/user/{erin}/reset-password"), &admin, json!({})).await.ok();
    let mail = outbox(&app, &owner).await;
    assert_eq!(mail.len(), before);
    assert!(mail.iter().all(|m| m["invitationId"].is_string()));
    // The outbox never shows bodies (they held the links).
    assert!(!serde_json::to_string(&mail).unwrap().contains("inv_"));
    // Only instance administrators read the outbox.
    app.get("/api/v1/mail", &admin).await.assert_error(403, "forbidden", None);

    let actions = app.get(&format!("/api/v1/accounts/{acc}/audit"), &owner).await;
    let actions: Vec<&str> = actions.ok().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["account.invitation.create", "account.invitation.resend", "account.invitation.revoke", "invitation.redeem"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

async fn bad_invitations_write_nothing(app: TestApp, sink: SmtpSink) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let url = format!("/api/v1/accounts/{acc}/invitations");
    let grant = json!({"roles": ["developer"]});
    let members_before = members(&app, &admin, &acc).await.len();

    let eleven: Vec<String> = (0..11).map(|i| format!("p{i}@example.com")).collect();
    app.post(&url, &admin, json!({"emails": eleven.join(","), "grant": grant})).await.assert_error(400, "invalid_request", Some("emails"));
    app.post(&url, &admin, json!({"emails": " ; , ", "grant": grant})).await.assert_error(400, "missing_field", Some("emails"));
    // Every bad address is reported, and the good ones are not invited either.
    let r = app.post(&url, &admin, json!({"emails": "ok@example.com, not-an-address; also@example.com, ALSO@example.com", "grant": grant})).await;
    r.assert_error(400, "invalid_request", Some("emails[1]"));
    let details = r.body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{}", r.body);
    assert_eq!(details[0]["code"], "invalid_email");
    assert_eq!(details[0]["target"], "emails[1]");
    assert_eq!(details[1]["code"], "duplicate_address");
    assert_eq!(details[1]["target"], "emails[3]");
    // Header injection: CR/LF in an address or a message never reaches a mail.
    let r = app.post(&url, &admin, json!({"emails": "eve@example.com\r\nBcc: spy@example.com", "grant": grant})).await;
    r.assert_error(400, "invalid_request", Some("emails[0]"));
    assert_eq!(r.body["error"]["details"][0]["code"], "invalid_email");
    app.post(&url, &admin, json!({"emails": "eve@example.com", "message": "hi\u{7}", "grant": grant})).await.assert_error(400, "invalid_request", Some("message"));
    app.post(&url, &admin, json!({"emails": "eve@example.com", "inviteRedirectUrl": "javascript:alert(1)", "grant": grant})).await.assert_error(400, "invalid_url", Some("inviteRedirectUrl"));
    // An empty grant and a grant above the inviter's are refused like adds.
    app.post(&url, &admin, json!({"emails": "eve@example.com", "grant": {"roles": []}})).await.assert_error(400, "invalid_request", None);
    app.post(&url, &admin, json!({"emails": "eve@example.com", "grant": {"roles": ["finance_contributor"]}})).await.assert_error(403, "grant_exceeds_yours", None);
    // Only a global admin of the tenant signed in through may invite: not a Manager who is
    // not a global admin, and not the owner (who is outside the tenant).
    let mona = app.create_user(&admin, &tid, "mona").await;
    crate::accounts::add(&app, &admin, &acc, json!([{"type": "user", "id": mona["id"]}]), json!({"roles": ["manager"]})).await;
    let mona = app.token("contoso.onatrium.local", "mona", "Us3r-Passw0rd!").await;
    app.post(&url, &mona, json!({"emails": "eve@example.com", "grant": grant})).await.assert_error(403, "global_admin_required", None);
    app.post(&url, &owner, json!({"emails": "eve@example.com", "grant": grant})).await.assert_error(403, "global_admin_required", None);
    // Nothing was written by any of these.
    assert!(invitations(&app, &admin, &acc).await.is_empty());
    assert!(outbox(&app, &owner).await.is_empty());
    assert_eq!(members(&app, &admin, &acc).await.len(), members_before + 1); // mona only
    let users = app.get(&format!("/api/v1/tenants/{tid}/users"), &admin).await;
    assert!(!users.body.to_string().contains("#EXT#"), "{}", users.body);

    // Already present: a user of the tenant with that address, or a pending invitation.
    app.post(&url, &admin, json!({"emails": "eve@example.com", "grant": grant})).await.ok();
    let r = app.post(&url, &admin, json!({"emails": "EVE@example.com", "grant": grant})).await;
    r.assert_error(400, "invalid_request", Some("emails[0]"));
    assert_eq!(r.body["error"]["details"][0]["code"], "already_in_tenant");
    app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "frank", "mail": "frank@example.com", "password": "Fr4nk-Passw0rd!"})).await.ok();
    let r = app.post(&url, &admin, json!({"emails": "frank@example.com", "grant": grant})).await;
    assert_eq!(r.body["error"]["details"][0]["code"], "already_in_tenant", "{}", r.body);

    // An expired link is refused (the invitation lives 30 days by default).
    let mails = sink.wait_for(1).await;
    let link = redeem_link(&mails[0]);
    app.clock.advance_seconds(31 * 86_400);
    let (status, body) = page(&app, &link).await;
    assert_eq!(status, 410);
    assert!(body.contains("expired"), "{body}");
    assert_eq!(redeem(&app, &link, "Eve-Passw0rd!!", "Eve-Passw0rd!!").await.0, 410);
    // (Sessions last an hour: sign in again after the month.)
    let admin = app.token("contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let inv = &invitations(&app, &admin, &acc).await[0];
    assert_eq!(inv["status"], "expired");
    // Resending revives it with a fresh link.
    let id = inv["id"].as_str().unwrap();
    app.post(&format!("{url}/{id}/resend"), &admin, json!({})).await.ok();
    let mails = sink.wait_for(2).await;
    assert_eq!(redeem(&app, &redeem_link(&mails[1]), "Eve-Passw0rd!!", "Eve-Passw0rd!!").await.0, 200);
    // A made-up token is simply not found.
    let (status, _) = page(&app, &format!("{}/invitations/redeem?token=inv_nope", app.base)).await;
    assert_eq!(status, 404);
    // A cross-site form post is refused even with a valid-looking token.
    let r = app.no_redirect.post(format!("{}/invitations/redeem", app.base)).header("origin", "https://evil.example").form(&[("token", "inv_x"), ("password", "a"), ("confirm", "a")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

/// Polls the outbox until `pred` holds for the only mail (or fails after 20 s).
async fn wait_mail(app: &TestApp, owner: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let list = outbox(app, owner).await;
        if let Some(m) = list.first()
            && pred(m)
        {
            return m.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mail never reached the expected state: {:?}", outbox(app, owner).await);
}

async fn smtp_outage_then_delivered_exactly_once(app: TestApp, mut sink: SmtpSink) {
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    sink.stop().await;
    // SMTP is down: the invitation is still created, and its mail waits in the outbox.
    let r = app.post(&format!("/api/v1/accounts/{acc}/invitations"), &admin, json!({"emails": "alice@example.com", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let m = wait_mail(&app, &owner, |m| m["attempts"] == 1 && m["status"] == "queued").await;
    assert!(m["lastError"].as_str().is_some_and(|e| !e.is_empty()), "{m}");
    // Retries wait (backoff on the injected clock): nothing more happens until it is due.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(outbox(&app, &owner).await[0]["attempts"], 1);
    // SMTP comes back; once the retry is due the mail is delivered, exactly once.
    sink.restart().await;
    app.clock.advance_seconds(60);
    let m = wait_mail(&app, &owner, |m| m["status"] == "sent").await;
    assert_eq!(m["attempts"], 2);
    assert_eq!(sink.wait_for(1).await.len(), 1);
    app.clock.advance_seconds(600);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1, "delivered twice");

    // With the server gone for good, a mail is dead-lettered after mail_max_attempts (3).
    sink.stop().await;
    let r = app.post(&format!("/api/v1/accounts/{acc}/invitations"), &admin, json!({"emails": "bob@example.org", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201);
    for attempt in 1..=2 {
        wait_mail(&app, &owner, |m| m["attempts"] == attempt && m["status"] == "queued").await;
        // Past the backoff (60 s, then 120 s), within the sessions' hour.
        app.clock.advance_seconds(600);
    }
    let m = wait_mail(&app, &owner, |m| m["status"] == "dead").await;
    assert_eq!(m["attempts"], 3);
    let dead = app.get("/api/v1/mail?status=dead", &owner).await;
    assert_eq!(dead.ok().as_array().unwrap().len(), 1);
    app.get("/api/v1/mail?status=lost", &owner).await.assert_error(400, "invalid_request", Some("status"));
}

async fn graph_invitations(app: TestApp, sink: SmtpSink) {
    let owner = app.owner().await;
    let (_, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let graph = |token: &str, body: Value| {
        let req = app.client.post(format!("{}/v1.0/invitations", app.base)).bearer_auth(token).json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    // Without a mail: the caller gets the redemption URL and hands it over itself.
    let (status, body) = graph(&admin, json!({"invitedUserEmailAddress": "gina@example.com", "inviteRedirectUrl": "https://myapp.example.com", "invitedUserDisplayName": "Gina G"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "PendingAcceptance");
    assert_eq!(body["invitedUserType"], "Guest");
    assert_eq!(body["invitedUserEmailAddress"], "gina@example.com");
    assert_eq!(body["invitedUserDisplayName"], "Gina G");
    assert_eq!(body["sendInvitationMessage"], false);
    let user_id = body["invitedUser"]["id"].as_str().unwrap().to_owned();
    let url = body["inviteRedeemUrl"].as_str().unwrap().to_owned();
    assert!(outbox(&app, &owner).await.is_empty());
    let (status, location, _) = redeem(&app, &url, "Gina-Passw0rd!", "Gina-Passw0rd!").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("https://myapp.example.com"));
    let u = app.get(&format!("/api/v1/tenants/{tid}/users/{user_id}"), &admin).await;
    assert_eq!(u.ok()["userType"], "Guest");

    // With a mail and a customized message.
    let (status, body) = graph(&admin, json!({"invitedUserEmailAddress": "hal@example.com", "inviteRedirectUrl": "https://myapp.example.com", "sendInvitationMessage": true,
        "invitedUserMessageInfo": {"customizedMessageBody": "Welcome aboard, Hal."}})).await;
    assert_eq!(status, 201, "{body}");
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("Welcome aboard, Hal."), "{}", mails[0]);

    // Errors in Graph's shape.
    let (status, body) = graph(&admin, json!({"invitedUserEmailAddress": "ivy@example.com", "inviteRedirectUrl": "https://myapp.example.com", "invitedUserDisplayName": "Ivy\r\nBcc: spy@example.com"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
    assert_eq!(body["error"]["target"], "displayName");
    let (status, body) = graph(&admin, json!({"invitedUserEmailAddress": "not-an-address", "inviteRedirectUrl": "https://myapp.example.com"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["target"], "invitedUserEmailAddress");
    let (status, body) = graph(&admin, json!({"invitedUserEmailAddress": "ivy@example.com"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = graph("nope", json!({"invitedUserEmailAddress": "ivy@example.com", "inviteRedirectUrl": "https://myapp.example.com"})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    app.create_user(&admin, &tid, "frank").await;
    let frank = app.token("contoso.onatrium.local", "frank", "Us3r-Passw0rd!").await;
    let (status, body) = graph(&frank, json!({"invitedUserEmailAddress": "ivy@example.com", "inviteRedirectUrl": "https://myapp.example.com"})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    // Personal accounts have no guests.
    let (status, body) = graph(&owner, json!({"invitedUserEmailAddress": "ivy@example.com", "inviteRedirectUrl": "https://myapp.example.com"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["innerError"]["code"], "protected_object");
}

/// Several nodes on one PostgreSQL never send the same mail twice: mail queued while SMTP is
/// down is retried by both nodes' workers, and every address gets exactly one message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_never_send_a_mail_twice() {
    let mut sink = SmtpSink::start().await;
    let app = mail_app(Backend::Postgres, &sink).await;
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    // A second node on the same database (same data dir: same master key and CA).
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let deps = atrium_server::Deps { clock: app.clock.clone(), ..atrium_server::Deps::default() };
    let second = atrium_server::Application::build(config, deps).await.unwrap();
    tokio::spawn(second.run_until(std::future::pending()));

    sink.stop().await;
    let url = format!("/api/v1/accounts/{acc}/invitations");
    let mut expected = Vec::new();
    for batch in 0..3 {
        let emails: Vec<String> = (0..10).map(|i| format!("guest{batch}x{i}@example.com")).collect();
        let r = app.post(&url, &admin, json!({"emails": emails, "grant": {"roles": ["developer"]}})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        expected.extend(emails);
    }
    // Both workers try and fail while SMTP is down.
    tokio::time::sleep(Duration::from_millis(500)).await;
    sink.restart().await;
    app.clock.advance_seconds(120);
    let mails = sink.wait_for(30).await;
    // Give both workers time to (wrongly) send anything twice.
    app.clock.advance_seconds(600);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = if sink.messages().len() > mails.len() { sink.messages() } else { mails };
    let mut got: Vec<&str> = mails.iter().map(|m| recipient(m)).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected.iter().map(String::as_str).collect::<Vec<_>>(), "every address exactly once");
    assert!(outbox(&app, &owner).await.iter().all(|m| m["status"] == "sent"));
}

/// Mail goes out over STARTTLS and over implicit TLS, and the server's certificate is checked:
/// without trusting its CA nothing is delivered. (The transport does not depend on the backend.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_over_starttls_and_tls_checks_the_certificate() {
    let certs = std::env::temp_dir().join(format!("atrium-smtp-tls-{}", std::process::id()));
    let tls = atrium_server::atrium_crypto::tls::ensure_local_tls(&certs, &["localhost".into()], 1_764_000_000).unwrap();
    let pair = [tls.server_cert.display().to_string(), tls.server_key.display().to_string()];
    for (mode, flag) in [("starttls", "--starttls"), ("tls", "--tls")] {
        for trusted in [true, false] {
            let sink = SmtpSink::start_with(&[flag.into(), pair[0].clone(), pair[1].clone()]).await;
            let (port, ca) = (sink.port, tls.ca_cert.clone());
            let app = spawn_app_with(Backend::Sqlite, move |c| {
                c.smtp_host = Some("localhost".into());
                c.smtp_port = Some(port);
                c.smtp_security = mode.into();
                c.smtp_ca_cert = trusted.then_some(ca);
                c.mail_poll_millis = 50;
            })
            .await;
            let owner = app.owner().await;
            let (_, _, admin) = account_with_manager(&app, &owner, "contoso").await;
            let r = app.post_graph_invitation(&admin, "tess@example.com").await;
            assert_eq!(r, 201);
            if trusted {
                let mails = sink.wait_for(1).await;
                assert_eq!(recipient(&mails[0]), "tess@example.com", "{mode}");
                wait_mail(&app, &owner, |m| m["status"] == "sent").await;
            } else {
                // (While an attempt runs the mail is `sending`; wait for its outcome.)
                let m = wait_mail(&app, &owner, |m| m["attempts"] == 1 && m["status"] != "sending").await;
                assert_eq!(m["status"], "queued", "{mode}: {m}");
                assert!(m["lastError"].as_str().unwrap().to_lowercase().contains("certificate"), "{mode}: {m}");
                assert!(sink.messages().is_empty());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&certs);
}

impl TestApp {
    /// Graph `POST /v1.0/invitations` with a mail; returns the status.
    async fn post_graph_invitation(&self, token: &str, email: &str) -> u16 {
        let body = json!({"invitedUserEmailAddress": email, "inviteRedirectUrl": "https://myapp.example.com", "sendInvitationMessage": true});
        self.client.post(format!("{}/v1.0/invitations", self.base)).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
    }
}
