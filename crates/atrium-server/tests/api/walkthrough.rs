//! Issue 19: what a first walk through seeds 000–004 found, fixed in the services. Each test
//! asserts what a person notices, on both backends.

use crate::accounts::{account_with_manager, add, create_account};
use crate::console::{Browser, csrf_of};
use crate::helpers::{T0, TestApp};
use serde_json::{Value, json};

api_tests!(
    new_tenants_global_admin_manages_the_account,
    another_tenants_directory_is_refused_not_shown_empty,
    invitation_mail_says_it_was_not_sent_without_a_mail_server,
    members_of_the_tenant_are_not_invited_as_its_guests,
    audit_log_and_history_read_like_partner_center,
    key_validity_counts_calendar_months,
);

/// Item 1, seed 000 "Create a new tenant": its global admin signs in next "to begin adding and
/// managing additional account users", so they are a Manager of the account.
async fn new_tenants_global_admin_manages_the_account(app: TestApp) {
    let owner = app.owner().await;
    let acc = create_account(&app, &owner, "Contoso Games").await;
    let r = app
        .post(
            &format!("/api/v1/accounts/{acc}/tenants"),
            &owner,
            json!({"displayName": "Northwind", "domainPrefix": "northwind", "contactEmail": "ops@northwind.com",
                   "globalAdmin": {"givenName": "Nora", "surname": "North", "username": "nora", "password": "Adm1n-Passw0rd!"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let admin_id = r.body["globalAdmin"]["id"].as_str().unwrap().to_owned();
    let nora = app.token("northwind.onatrium.local", "nora", "Adm1n-Passw0rd!").await;
    let accounts = app.get("/api/v1/accounts", &nora).await;
    let ids: Vec<&str> = accounts.ok().as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [acc.as_str()], "the new tenant's admin sees the account: {}", accounts.body);
    // Item 9: the list says Manager, not "Member".
    assert_eq!(accounts.body[0]["role"], "Manager");
    assert_eq!(app.get("/api/v1/accounts", &owner).await.ok()[0]["role"], "Owner");
    let members = app.get(&format!("/api/v1/accounts/{acc}/members"), &nora).await;
    let me = members.ok().as_array().unwrap().iter().find(|m| m["id"] == admin_id.as_str()).cloned().expect("the admin is a member");
    assert_eq!(me["grant"]["roles"], json!(["manager"]), "{me}");
    // …and goes on to add users (seed 000's last step).
    let r = app
        .post(&format!("/api/v1/accounts/{acc}/members/users"), &nora, json!({"userPrincipalName": "ned", "givenName": "Ned", "surname": "North", "grant": {"roles": ["developer"]}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The membership is audited, with who did it and to whom.
    let audit = app.get(&format!("/api/v1/accounts/{acc}/audit?target={admin_id}"), &owner).await;
    let added = audit.ok().as_array().unwrap().iter().find(|e| e["action"] == "account.member.add").cloned().expect("account.member.add for the admin");
    assert_eq!(added["targetName"], "Nora North (nora@northwind.onatrium.local)", "{added}");
    assert_eq!(added["details"]["grant"]["roles"], json!(["Manager"]), "{added}");
    // The console's account list shows the account too.
    let (b, _) = Browser::sign_in(&app, "northwind.onatrium.local", "nora", "Adm1n-Passw0rd!").await;
    let (_, html, _) = b.get("/accounts").await;
    assert!(html.contains("Contoso Games") && !html.contains("no accounts yet"), "{html}");
    assert!(html.contains(">Manager<") && !html.contains(">Member<"), "{html}");
}

/// Item 3: a Manager who opens another tenant's directory in "Add existing users" is told to sign
/// in through it, never shown an empty list; the owner sees every associated tenant's users.
async fn another_tenants_directory_is_refused_not_shown_empty(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let r = app
        .post(
            &format!("/api/v1/accounts/{acc}/tenants"),
            &owner,
            json!({"displayName": "Fabrikam", "domainPrefix": "fabrikam", "globalAdmin": {"givenName": "Fay", "surname": "Fab", "username": "fay", "password": "Adm1n-Passw0rd!"}}),
        )
        .await;
    let fab = r.ok()["tenant"]["id"].as_str().unwrap().to_owned();
    let fay = app.token("fabrikam.onatrium.local", "fay", "Adm1n-Passw0rd!").await;
    app.create_user(&fay, &fab, "frank").await;

    // REST: the tenant signed in through lists; another one is refused with the way out.
    let own = app.get(&format!("/api/v1/accounts/{acc}/tenants/{tid}/users"), &admin).await;
    let upns: Vec<&str> = own.ok()["items"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap()).collect();
    assert!(upns.contains(&"admin@contoso.onatrium.local"), "{upns:?}");
    let other = app.get(&format!("/api/v1/accounts/{acc}/tenants/{fab}/users"), &admin).await;
    other.assert_error(403, "wrong_tenant", Some("tenantId"));
    let msg = other.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("signed in through contoso.onatrium.local") && msg.contains("sign in through fabrikam.onatrium.local"), "{msg}");
    app.get(&format!("/api/v1/accounts/{acc}/tenants/{fab}/groups"), &admin).await.assert_error(403, "wrong_tenant", None);
    app.get(&format!("/api/v1/accounts/{acc}/tenants/{fab}/applications"), &admin).await.assert_error(403, "wrong_tenant", None);
    // The owner, outside every directory, may add from any associated tenant, so sees them all.
    let all = app.get(&format!("/api/v1/accounts/{acc}/tenants/{fab}/users?search=fr"), &owner).await;
    let upns: Vec<&str> = all.ok()["items"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap()).collect();
    assert_eq!(upns, ["frank@fabrikam.onatrium.local"]);
    // A tenant that is not associated is not listed at all.
    let (lone, _) = app.tenant_with_admin(&owner, "lonely").await;
    app.get(&format!("/api/v1/accounts/{acc}/tenants/{lone}/users"), &owner).await.assert_error(409, "tenant_not_associated", Some("tenantId"));

    // The console: the refusal in place of "This tenant has no users".
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (status, html, _) = b.get(&format!("/accounts/{acc}/users/add?tenant={fab}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("This tenant has no users"), "a false empty list: {html}");
    assert!(html.contains("id=\"picker-refused\"") && html.contains("sign in through fabrikam.onatrium.local"), "{html}");
    let (_, html, _) = b.get(&format!("/accounts/{acc}/users/add?tenant={tid}")).await;
    assert!(html.contains("admin@contoso.onatrium.local") && !html.contains("picker-refused"), "{html}");
    let (ob, _) = Browser::sign_in(&app, "personal.onatrium.local", &app.owner_upn, crate::helpers::OWNER_PASSWORD).await;
    let (_, html, _) = ob.get(&format!("/accounts/{acc}/users/add?tenant={fab}")).await;
    assert!(html.contains("frank@fabrikam.onatrium.local"), "the owner sees the other tenant's users: {html}");
}

/// Item 7: without a mail server the reply says the invitation mail was not sent.
async fn invitation_mail_says_it_was_not_sent_without_a_mail_server(app: TestApp) {
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    let r = app.post(&format!("/api/v1/accounts/{acc}/invitations"), &admin, json!({"emails": "gina@example.com", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mail = &r.body["value"][0]["mail"];
    assert_eq!(mail["status"], "not_sent", "{}", r.body);
    assert_eq!(mail["summary"], "Not sent: no mail server is configured");
    let list = app.get(&format!("/api/v1/accounts/{acc}/invitations"), &admin).await;
    assert_eq!(list.ok()["value"][0]["mail"]["status"], "not_sent");
    let id = list.body["value"][0]["id"].as_str().unwrap().to_owned();
    let resent = app.post(&format!("/api/v1/accounts/{acc}/invitations/{id}/resend"), &admin, json!({})).await;
    assert_eq!(resent.ok()["mail"]["summary"], "Not sent: no mail server is configured");
    // The outbox says the same, and filters by that name. The first mail's link no longer
    // works, so that mail was cancelled: only the new one waits.
    let outbox = app.get("/api/v1/mail?status=not_sent", &owner).await;
    assert_eq!(outbox.ok().as_array().unwrap().len(), 1);
    assert!(outbox.body.as_array().unwrap().iter().all(|m| m["status"] == "not_sent"));
    assert_eq!(app.get("/api/v1/mail?status=cancelled", &owner).await.ok().as_array().unwrap().len(), 1);
    // The console result page.
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (_, form, _) = b.get(&format!("/accounts/{acc}/users/invite")).await;
    let (status, html, _) = b
        .post(&format!("/accounts/{acc}/users/invite"), &[("csrf", &csrf_of(&form)), ("emails", "hal@example.com"), ("role", "developer")], Some(&app.base))
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Invitation pending; not sent: no mail server is configured") && !html.contains("on its way"), "{html}");
}

/// Item 7: a member's own address is not invited as a guest of their own tenant.
async fn members_of_the_tenant_are_not_invited_as_its_guests(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    app.create_user(&admin, &tid, "ann").await;
    let path = format!("/api/v1/accounts/{acc}/invitations");
    let invite = |emails: &str| app.post(&path, &admin, json!({"emails": emails, "grant": {"roles": ["developer"]}}));
    let r = invite("ANN@contoso.onatrium.local").await;
    r.assert_error(400, "invalid_request", Some("emails[0]"));
    let d = &r.body["error"]["details"][0];
    assert_eq!(d["code"], "already_in_tenant", "{}", r.body);
    assert!(d["message"].as_str().unwrap().contains("'ANN@contoso.onatrium.local' is a user of contoso.onatrium.local"), "{d}");
    assert!(d["message"].as_str().unwrap().contains("Add existing users"), "{d}");
    let r = invite("nobody@contoso.onatrium.local").await;
    assert!(r.body["error"]["details"][0]["message"].as_str().unwrap().contains("create the user"), "{}", r.body);
    let list = app.get(&format!("/api/v1/accounts/{acc}/invitations"), &admin).await;
    assert!(list.ok()["value"].as_array().unwrap().is_empty(), "nobody was invited");
}

/// Item 8: names and words in the audit log, concrete pages in the history.
async fn audit_log_and_history_read_like_partner_center(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let game = app.post(&format!("/api/v1/accounts/{acc}/products"), &admin, json!({"name": "Game One"})).await.ok()["id"].as_str().unwrap().to_owned();
    let ann = app.create_user(&admin, &tid, "ann").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "user", "id": ann}]), json!({"roles": ["developer"], "permissions": [{"permission": "packages", "level": "read_write", "products": [game]}]})).await;
    let audit = app.get(&format!("/api/v1/accounts/{acc}/audit?target={ann}"), &owner).await;
    let e = audit.ok().as_array().unwrap().iter().find(|e| e["action"] == "account.member.add").cloned().unwrap();
    assert_eq!(e["actorName"], "Ada Admin (admin@contoso.onatrium.local)", "{e}");
    assert_eq!(e["targetName"], "Test ann (ann@contoso.onatrium.local)", "{e}");
    assert_eq!(e["actionText"], "Added to the account", "{e}");
    // The grant is an object in words, not JSON inside a string.
    assert_eq!(e["details"]["grant"], json!({"roles": ["Developer"], "permissions": [{"permission": "Packages", "access": "Read/write", "products": ["Game One"]}]}), "{e}");
    // The console's audit page shows the same words, no GUIDs for people.
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (_, html, _) = b.get(&format!("/accounts/{acc}/audit")).await;
    assert!(html.contains("Added to the account") && html.contains("Ada Admin (admin@contoso.onatrium.local)"), "{html}");
    assert!(html.contains("grant: Developer; Packages: Read/write (Game One)") && !html.contains("\\&quot;roles"), "{html}");
    assert!(!html.contains(&ann), "no GUID for ann on the page: {html}");

    // History: the pages and calls visited, with their ids, not route templates.
    let admin_id = app.get("/api/v1/me", &admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    let mut history = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        history = app.get(&format!("/api/v1/accounts/{acc}/members/user/{admin_id}/activity"), &owner).await.body;
        let routes: Vec<&str> = history.as_array().unwrap().iter().map(|a| a["route"].as_str().unwrap()).collect();
        if routes.contains(&format!("/accounts/{acc}/audit").as_str()) {
            break;
        }
    }
    let routes: Vec<&str> = history.as_array().unwrap().iter().map(|a| a["route"].as_str().unwrap()).collect();
    assert!(routes.contains(&format!("/api/v1/accounts/{acc}/members").as_str()), "{routes:?}");
    assert!(routes.contains(&format!("/accounts/{acc}/audit").as_str()), "the console page visited: {routes:?}");
    assert!(routes.iter().all(|r| !r.contains('{')), "no route templates: {routes:?}");
}

/// Item 8: a 12-month key made on 24 November 2025 expires on 24 November 2026, not 360 days later.
async fn key_validity_counts_calendar_months(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    assert_eq!(T0, 1_764_000_000_000, "2025-11-24T16:00:00Z");
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Tool"})).await;
    let keys = format!("/api/v1/tenants/{tid}/applications/{}/keys", a.ok()["id"].as_str().unwrap());
    let k = app.post(&keys, &admin, json!({"validityMonths": 12})).await;
    assert_eq!(k.ok()["createdAt"], "2025-11-24T16:00:00Z");
    assert_eq!(k.body["expiresAt"], "2026-11-24T16:00:00Z");
    let k = app.post(&keys, &admin, json!({"validityMonths": 3})).await;
    assert_eq!(k.ok()["expiresAt"], "2026-02-24T16:00:00Z");
}
