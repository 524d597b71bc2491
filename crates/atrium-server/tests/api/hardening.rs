//! Issue 17's defects in the core and the store, each reproduced as it was found: a refresh
//! token redeemed many times at once, cursors that decode to NUL bytes, spoofing display names,
//! and invitation mail that went out after its invitation was withdrawn.

use crate::accounts::account_with_manager;
use crate::helpers::TestApp;
use crate::identity::{setup, token};
use serde_json::{Value, json};

api_tests!(
    a_refresh_token_redeemed_at_once_works_once_and_kills_its_family,
    cursors_that_decode_to_nul_are_a_400,
    display_names_refuse_bidi_overrides_and_invisible_text,
    withdrawn_invitations_cancel_their_queued_mail,
);

/// Ten redemptions of one refresh token at once: exactly one succeeds (on PostgreSQL two to
/// nine did), and since the others are reuse, the family dies, including the token the winner
/// got, even when the winner stored it after the family was revoked.
async fn a_refresh_token_redeemed_at_once_works_once_and_kills_its_family(app: TestApp) {
    let (tid, _admin, web, secret) = setup(&app).await;
    let cid = web["appId"].as_str().unwrap().to_owned();
    let first = token(&app, &tid, &[("grant_type", "password"), ("client_id", &cid), ("client_secret", &secret), ("username", "adele@contoso.onatrium.local"),
                                    ("password", "Us3r-Passw0rd!"), ("scope", "User.Read offline_access openid")]).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let rt = first.1["refresh_token"].as_str().unwrap().to_owned();
    let form = |rt: &str| vec![("grant_type", "refresh_token".to_owned()), ("client_id", cid.clone()), ("client_secret", secret.clone()), ("refresh_token", rt.to_owned())];
    // Spawned tasks, so the ten requests really are in flight together on the runtime's threads.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, url, f) = (app.client.clone(), format!("{}/{tid}/oauth2/v2.0/token", app.base), form(&rt));
        set.spawn(async move {
            let r = client.post(url).form(&f).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let results: Vec<(u16, Value)> = set.join_all().await;
    let winners: Vec<&(u16, Value)> = results.iter().filter(|r| r.0 == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one concurrent redemption may succeed: {results:?}");
    for loser in results.iter().filter(|r| r.0 != 200) {
        assert_eq!((loser.0, loser.1["error"].as_str()), (400, Some("invalid_grant")), "{}", loser.1);
    }
    // The winner's new token belongs to a family revoked for reuse.
    let next = winners[0].1["refresh_token"].as_str().unwrap();
    let f = form(next);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = token(&app, &tid, &f).await;
    assert_eq!((r.0, r.1["error"].as_str()), (400, Some("invalid_grant")), "{}", r.1);
}

/// `AAAA` is valid base64 for three NUL bytes: PostgreSQL refused the text with a 500 that
/// carried its own error message.
async fn cursors_that_decode_to_nul_are_a_400(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let g = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "Sales"})).await;
    let gid = g.ok()["id"].as_str().unwrap().to_owned();
    for (path, token) in [
        ("/api/v1/tenants?cursor=AAAA".to_owned(), &owner),
        (format!("/api/v1/tenants/{tid}/users?cursor=AAAA"), &admin),
        (format!("/api/v1/tenants/{tid}/groups?cursor=AAAA"), &admin),
        (format!("/api/v1/tenants/{tid}/applications?cursor=AAAA"), &admin),
        (format!("/api/v1/tenants/{tid}/groups/{gid}/members?cursor=AAAA"), &admin),
        (format!("/api/v1/accounts/{acc}/tenants/{tid}/users?cursor=AAAA"), &admin),
        (format!("/api/v1/accounts/{acc}/tenants/{tid}/groups?cursor=AAAA"), &admin),
    ] {
        let r = app.get(&path, token).await;
        assert_eq!(r.status.as_u16(), 400, "{path}: {}", r.body);
        assert_eq!(r.body["error"]["target"], "cursor", "{path}: {}", r.body);
        assert!(!r.body.to_string().to_lowercase().contains("utf8"), "{path} leaks the database's text: {}", r.body);
    }
}

/// A right-to-left override makes "Ann\u{202E}nimda" read as an administrator in every list;
/// a name of zero-width characters shows as nothing.
async fn display_names_refuse_bidi_overrides_and_invisible_text(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    for bad in ["Ann\u{202E}nimda", "\u{200B}\u{200D}", " \u{FEFF} ", "x\u{2066}y\u{2069}"] {
        let r = app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "spoof", "displayName": bad, "password": "Us3r-Passw0rd!"})).await;
        r.assert_error(400, "invalid_name", Some("displayName"));
        app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": bad})).await.assert_error(400, "invalid_name", Some("displayName"));
        app.patch(&format!("/api/v1/tenants/{tid}"), &owner, json!({"displayName": bad})).await.assert_error(400, "invalid_name", Some("displayName"));
    }
    // Nothing was written, and ordinary names with joiners or RTL text still work.
    let users = app.get(&format!("/api/v1/tenants/{tid}/users"), &admin).await;
    assert!(!users.body.to_string().contains("spoof"), "{}", users.body);
    let ok = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "\u{05E6}\u{05D5}\u{05D5}\u{05EA} \u{1F469}\u{200D}\u{1F4BB}"})).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

/// No mail server here, so mail waits in the outbox: revoking, resending (a new link) and
/// removing the tenant from the account each cancel the waiting mail, which is then never
/// claimed for delivery and no longer holds the link.
async fn withdrawn_invitations_cancel_their_queued_mail(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let url = format!("/api/v1/accounts/{acc}/invitations");
    let r = app.post(&url, &admin, json!({"emails": "alice@example.com; bob@example.org; carol@example.net", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id_of = |to: &str| r.body["value"].as_array().unwrap().iter().find(|i| i["email"] == to).unwrap()["id"].as_str().unwrap().to_owned();
    let (alice, bob) = (id_of("alice@example.com"), id_of("bob@example.org"));
    let mail_of = |inv: String| {
        let (app, owner) = (&app, owner.clone());
        async move { app.get(&format!("/api/v1/mail?invitationId={inv}"), &owner).await.ok().as_array().unwrap().clone() }
    };
    assert_eq!(mail_of(alice.clone()).await[0]["status"], "not_sent");

    app.post(&format!("{url}/{alice}/revoke"), &admin, json!({})).await.ok();
    let m = mail_of(alice).await;
    assert_eq!((m.len(), m[0]["status"].as_str()), (1, Some("cancelled")), "{m:?}");
    assert_eq!(m[0]["summary"], "Cancelled: the invitation was revoked");

    app.clock.advance_seconds(1);
    app.post(&format!("{url}/{bob}/resend"), &admin, json!({})).await.ok();
    let m = mail_of(bob).await;
    let statuses: Vec<&str> = m.iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["not_sent", "cancelled"], "newest first: the new link waits, the old one is cancelled: {m:?}");

    let r = app.delete(&format!("/api/v1/accounts/{acc}/tenants/{tid}"), &owner).await;
    assert!(r.status.is_success(), "{}", r.body);
    let all = app.get("/api/v1/mail?status=cancelled", &owner).await.ok().as_array().unwrap().clone();
    assert!(all.iter().any(|x| x["to"] == "carol@example.net" && x["summary"] == "Cancelled: the tenant was removed from the account"), "{all:?}");
    let queued = app.get("/api/v1/mail?status=queued", &owner).await.ok().as_array().unwrap().clone();
    assert!(queued.is_empty(), "nothing about the removed tenant may still go out: {queued:?}");
}
