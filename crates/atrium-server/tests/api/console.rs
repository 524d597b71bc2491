//! The web console over HTTPS: sessions and CSRF, pages for a signed-in owner, and secrets shown
//! once. The browser walk-through is in `e2e/` (scripts/e2e).

use crate::accounts::{account_with_manager, add};
use crate::helpers::{OWNER_PASSWORD, TestApp};
use crate::subscriptions::create_subscription;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

api_tests!(
    console_pages_render_for_a_signed_in_owner,
    console_posts_need_the_session_csrf_token,
    console_temporary_password_is_shown_once,
    console_member_lists_are_paginated,
    console_invite_outside_users,
    console_invite_needs_a_global_admin,
    console_reset_password_follows_the_service,
    console_directory_edits_follow_the_service,
    console_tenant_create_shows_every_field_error,
    console_subscription_pages_walk_seed_003
);

/// A browser-like session: the cookie and the CSRF token of the last page read.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    pub(crate) cookie: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The value of the first hidden `csrf` input of a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + "name=\"csrf\" value=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl<'a> Browser<'a> {
    pub(crate) async fn sign_in(app: &'a TestApp, tenant: &str, username: &str, password: &str) -> (Browser<'a>, reqwest::Response) {
        let res = app
            .no_redirect
            .post(format!("{}/sign-in", app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ORIGIN, &app.base)
            .body(form(&[("tenant", tenant), ("username", username), ("password", password)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in redirects");
        let cookie = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("atrium_session="))
            .expect("a session cookie");
        for attr in ["Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        let cookie = cookie.split(';').next().unwrap().to_owned();
        (Browser { app, cookie }, res)
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let res = self.app.no_redirect.get(format!("{}{}", self.app.base, path)).header(COOKIE, &self.cookie).send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, res.text().await.unwrap(), headers)
    }

    pub(crate) async fn post(&self, path: &str, pairs: &[(&str, &str)], origin: Option<&str>) -> (StatusCode, String, Option<String>) {
        let mut req = self
            .app
            .no_redirect
            .post(format!("{}{}", self.app.base, path))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(pairs));
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
        (status, res.text().await.unwrap(), location)
    }

    /// The owner after the forced password change.
    async fn owner(app: &'a TestApp) -> Browser<'a> {
        let (b, res) = Browser::sign_in(app, "personal.onatrium.local", &app.owner_upn, &app.owner_one_time_password).await;
        assert_eq!(res.headers()[LOCATION], "/password");
        // Every page leads to the password page until it is changed.
        assert_eq!(b.get("/accounts").await.2[LOCATION], "/password");
        let (_, html, _) = b.get("/password").await;
        let csrf = csrf_of(&html);
        let one_time = app.owner_one_time_password.clone();
        let (status, _, location) =
            b.post("/password", &[("csrf", &csrf), ("current", &one_time), ("new", OWNER_PASSWORD), ("confirm", OWNER_PASSWORD)], Some(&app.base)).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/accounts")));
        b
    }
}

async fn console_pages_render_for_a_signed_in_owner(app: TestApp) {
    // Signed out, pages lead to the sign-in page.
    let res = app.no_redirect.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/sign-in");
    let page = app.client.get(format!("{}/sign-in", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["cache-control"], "no-store");

    let b = Browser::owner(&app).await;
    let (status, html, _) = b.get("/accounts").await;
    assert_eq!(status, 200);
    assert!(html.contains("You have no accounts yet"), "the empty state");
    let csrf = csrf_of(&html);
    let (status, _, location) = b.post("/accounts", &[("csrf", &csrf), ("name", "Contoso Games")], Some(&app.base)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let tenants = location.unwrap();
    let account = tenants.trim_end_matches("/tenants").to_owned();
    for (path, text) in [
        ("/tenants", "No tenant is associated yet"),
        ("/tenants/new", "Global administrator user account info"),
        ("/tenants/associate", "Associate an existing tenant"),
        ("/users", "No tenant is associated with this account"),
        ("/groups", "Microsoft Entra applications"),
        ("/applications", "User management"),
        ("/products", "This account has no products yet"),
        ("/audit", "Opened the account"),
    ] {
        let (status, html, _) = b.get(&format!("{account}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains(text), "{path} shows {text:?}");
    }
    // A field error is shown next to its field, in an HTML page.
    let (status, html, _) = b
        .post(&format!("{account}/tenants/new"), &[("csrf", &csrf), ("domainPrefix", "no good"), ("globalAdmin.password", "x")], Some(&app.base))
        .await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"domainPrefix-error\""), "{html}");
    // Static files are served from the binary with long cache headers.
    let js = app.client.get(format!("{}/static/htmx.min.js", app.base)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    // Another account's id reveals nothing.
    let (status, html, _) = b.get("/accounts/00000000-0000-4000-8000-000000000000/users").await;
    assert_eq!(status, 404);
    assert!(html.contains("<html"), "errors are console pages, not JSON");
}

async fn console_posts_need_the_session_csrf_token(app: TestApp) {
    let b = Browser::owner(&app).await;
    let (_, html, _) = b.get("/accounts").await;
    let csrf = csrf_of(&html);
    let origin = Some(app.base.as_str());
    assert_eq!(b.post("/accounts", &[("name", "No token")], origin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post("/accounts", &[("csrf", "forged"), ("name", "Forged")], origin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post("/accounts", &[("csrf", &csrf), ("name", "Cross")], Some("https://evil.example")).await.0, StatusCode::FORBIDDEN);
    // Another session's token is not this session's.
    let (other, _) = Browser::sign_in(&app, "personal.onatrium.local", &app.owner_upn, OWNER_PASSWORD).await;
    let (_, other_html, _) = other.get("/accounts").await;
    assert_ne!(csrf_of(&other_html), csrf);
    assert_eq!(b.post("/accounts", &[("csrf", &csrf_of(&other_html)), ("name", "Swapped")], origin).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = b.post("/accounts", &[("csrf", &csrf), ("name", "Contoso Games")], origin).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html, _) = b.get("/accounts").await;
    assert!(html.contains("Contoso Games") && !html.contains("Forged") && !html.contains("Swapped"));
    // The sign-in form has no session yet: the same-origin check protects it.
    let res = app
        .no_redirect
        .post(format!("{}/sign-in", app.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(form(&[("tenant", "personal.onatrium.local"), ("username", &app.owner_upn), ("password", OWNER_PASSWORD)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Signing out ends the session.
    assert_eq!(b.post("/sign-out", &[("csrf", &csrf)], origin).await.0, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/accounts").await.2[LOCATION], "/sign-in");
}

async fn console_temporary_password_is_shown_once(app: TestApp) {
    let owner = app.owner().await;
    let (acc, _, _) = account_with_manager(&app, &owner, "contoso").await;
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (status, html, _) = b.get(&format!("/accounts/{acc}/users/new")).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);
    let (status, html, _) = b
        .post(
            &format!("/accounts/{acc}/users/new"),
            &[("csrf", &csrf), ("givenName", "Adele"), ("surname", "Vance"), ("userPrincipalName", "adele"), ("role", "developer")],
            Some(&app.base),
        )
        .await;
    assert_eq!(status, 200, "{html}");
    let start = html.find("id=\"temporary-password\">").unwrap() + "id=\"temporary-password\">".len();
    let password = html[start..start + html[start..].find('<').unwrap()].to_owned();
    assert!(password.len() >= 12);
    // The new user can sign in with it (and must change it).
    let (_, res) = Browser::sign_in(&app, "contoso.onatrium.local", "adele", &password).await;
    assert_eq!(res.headers()[LOCATION], "/password");
    // After leaving the page, nothing shows it again.
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert!(users.contains("Adele Vance") && !users.contains(&password));
    let start = users[..users.find("Adele Vance").unwrap()].rfind("/members/user/").unwrap();
    let link = &users[start..start + users[start..].find('"').unwrap()];
    let (status, detail, _) = b.get(&format!("/accounts/{acc}{link}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("adele@contoso.onatrium.local") && !detail.contains(&password));
}

async fn console_member_lists_are_paginated(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let mut principals = Vec::new();
    for i in 0..22 {
        let u = app.create_user(&admin, &tid, &format!("user{i:02}")).await;
        principals.push(serde_json::json!({"type": "user", "id": u["id"]}));
    }
    add(&app, &admin, &acc, serde_json::Value::Array(principals), serde_json::json!({"roles": ["developer"]})).await;
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    // 23 members (the admin and 22 users), 20 to a page.
    let (status, first, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert_eq!(status, 200);
    assert!(first.contains("Page 1 of 2 (23 in all)") && first.contains("href=\"?page=2\""), "{first}");
    let (_, second, _) = b.get(&format!("/accounts/{acc}/users?page=2")).await;
    assert!(second.contains("Page 2 of 2"));
    assert_eq!(second.matches("/members/user/").count(), 3, "three rows on the last page");
}

async fn console_invite_outside_users(app: TestApp) {
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert!(users.contains(&format!("href=\"/accounts/{acc}/users/invite\">Invite outside users</a>")), "{users}");
    let (status, html, _) = b.get(&format!("/accounts/{acc}/users/invite")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<label for=\"emails\">Email addresses</label>") && html.contains("name=\"role\""), "the grant editor is there");
    let csrf = csrf_of(&html);
    let path = format!("/accounts/{acc}/users/invite");
    let origin = Some(app.base.as_str());
    let invite = [("emails", "alice@example.com; bob@example.org"), ("role", "developer")];
    // Without the session's token, or from another site, nothing is written.
    assert_eq!(b.post(&path, &invite, origin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post(&path, &[("csrf", "forged"), invite[0], invite[1]], origin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post(&path, &[("csrf", &csrf), invite[0], invite[1]], Some("https://evil.example")).await.0, StatusCode::FORBIDDEN);
    let list = app.get(&format!("/api/v1/accounts/{acc}/invitations"), &admin).await;
    assert_eq!(list.ok()["value"].as_array().unwrap().len(), 0);
    // A refused batch: every bad address next to the field, the input kept.
    let (status, html, _) = b.post(&path, &[("csrf", &csrf), ("emails", "carol@example.net, not-an-address; carol@example.net"), ("role", "developer")], origin).await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"emails-error\"") && html.contains("2 of the 3 addresses cannot be invited"), "{html}");
    assert!(html.contains("<span class=\"mono\">not-an-address</span>") && html.contains("appears more than once"), "{html}");
    assert!(html.contains(">carol@example.net, not-an-address; carol@example.net</textarea>"), "the input is kept");
    // Invited: the result page lists them; the link is in the mail only.
    let (status, html, _) = b.post(&path, &[("csrf", &csrf), invite[0], invite[1], ("message", "Welcome!")], origin).await;
    assert_eq!(status, 200, "{html}");
    // No mail server here: the page says so rather than "on its way" (issue 19, item 7).
    assert_eq!(html.matches("Invitation pending; not sent: no mail server is configured").count(), 2, "{html}");
    assert!(html.contains("id=\"mail-not-sent\"") && !html.contains("on its way"), "{html}");
    assert!(!html.contains("inv_") && !html.contains("token="), "no redemption link on the page");
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert_eq!(users.matches(">Invitation pending</a>").count(), 2, "{users}");
    // A pending guest's page: the invitation, its mail, Resend and Revoke (behind a confirmation).
    let start = users.find("aria-label=\"Invitation pending: bob@example.org\"").unwrap();
    let href = users[..start].rfind("href=\"").unwrap() + 6;
    let guest = users[href..href + users[href..].find('"').unwrap()].to_owned();
    let (status, page, _) = b.get(&guest).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"invitation-status\">Invitation pending") && page.contains("Resend invitation") && page.contains("Revoke invitation"), "{page}");
    assert!(page.contains("data-status=\"not_sent\"") && page.contains("Not sent: no mail server is configured"), "no SMTP server here: {page}");
    assert!(!page.contains("Reset password") && !page.contains("inv_"));
    let inv = page[page.find("/invitations/").unwrap() + 13..].split('/').next().unwrap().to_owned();
    assert_eq!(b.post(&format!("/accounts/{acc}/invitations/{inv}/resend"), &[], origin).await.0, StatusCode::FORBIDDEN);
    let (status, _, location) = b.post(&format!("/accounts/{acc}/invitations/{inv}/resend"), &[("csrf", &csrf)], origin).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page, _) = b.get(&location.unwrap()).await;
    assert!(page.contains("A new invitation was sent") && !page.contains("inv_"), "{page}");
    let (status, confirm, _) = b.get(&format!("/accounts/{acc}/invitations/{inv}/revoke")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("stops working") && confirm.contains("deleted"), "{confirm}");
    assert_eq!(b.post(&format!("/accounts/{acc}/invitations/{inv}/revoke"), &[], origin).await.0, StatusCode::FORBIDDEN);
    let (status, _, location) = b.post(&format!("/accounts/{acc}/invitations/{inv}/revoke"), &[("csrf", &csrf)], origin).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(format!("/accounts/{acc}/users").as_str())));
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert_eq!(users.matches(">Invitation pending</a>").count(), 1);
    assert!(!users.contains("bob@example.org"));
}

async fn console_invite_needs_a_global_admin(app: TestApp) {
    let owner = app.owner().await;
    let (acc, _, _) = account_with_manager(&app, &owner, "contoso").await;
    // The owner manages users but is no global admin of an associated tenant.
    let (b, _) = Browser::sign_in(&app, "personal.onatrium.local", &app.owner_upn, OWNER_PASSWORD).await;
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert!(users.contains("disabled aria-describedby=\"invite-why\">Invite outside users</button>"), "{users}");
    assert!(users.contains("id=\"invite-why\">Inviting outside users needs a global administrator"), "{users}");
    let (status, html, _) = b.get(&format!("/accounts/{acc}/users/invite")).await;
    assert_eq!(status, 200);
    assert!(html.contains("disabled aria-describedby=\"invite-why\">Invite</button>"), "{html}");
    let csrf = csrf_of(&html);
    // The service refuses it anyway.
    let (status, html, _) =
        b.post(&format!("/accounts/{acc}/users/invite"), &[("csrf", &csrf), ("emails", "eve@example.com"), ("role", "developer")], Some(&app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("role=\"alert\"") && html.contains(">eve@example.com</textarea>"), "{html}");
    let list = app.get(&format!("/api/v1/accounts/{acc}/invitations"), &owner).await;
    assert_eq!(list.ok()["value"].as_array().unwrap().len(), 0);
}

async fn console_reset_password_follows_the_service(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let carol = app.create_user(&admin, &tid, "carol").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, serde_json::json!([{"type": "user", "id": carol, "tenantId": tid}]), serde_json::json!({"roles": ["developer"]})).await;
    let dave = app.create_user(&admin, &tid, "dave").await["id"].as_str().unwrap().to_owned();
    add(&app, &owner, &acc, serde_json::json!([{"type": "user", "id": dave, "tenantId": tid}]), serde_json::json!({"roles": ["manager"]})).await;
    // R5 forbids creating objects in a synchronized tenant, not resetting a password: the
    // service allows it, so the console offers it.
    app.patch(&format!("/api/v1/tenants/{tid}"), &owner, serde_json::json!({"directorySync": true})).await.ok();
    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (_, users, _) = b.get(&format!("/accounts/{acc}/users")).await;
    assert!(users.contains("disabled aria-describedby=\"create-why\">Create new users</button>"), "creating stays disabled: {users}");
    let page = format!("/accounts/{acc}/members/user/{carol}");
    let (status, html, _) = b.get(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains(">Reset password</button>") && !html.contains("resetting the password and deleting"), "{html}");
    let (status, html, _) = b.post(&format!("{page}/reset-password"), &[("csrf", &csrf_of(&html))], Some(&app.base)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("The password was reset") && html.contains("id=\"temporary-password\""), "{html}");
    // A member who is no global administrator is told why instead, and refused anyway.
    let (dev, _) = Browser::sign_in(&app, "contoso.onatrium.local", "dave", "Us3r-Passw0rd!").await;
    let (status, html, _) = dev.get(&page).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains(">Reset password</button>")
            && html.contains("resetting the password and deleting the user from the organization need a global administrator signed in through contoso.onatrium.local."),
        "{html}"
    );
    let (status, _, _) = dev.post(&format!("{page}/reset-password"), &[("csrf", &csrf_of(&html))], Some(&app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The text of the element with `id` (up to its first tag).
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}")) + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

async fn console_subscription_pages_walk_seed_003(app: TestApp) {
    let owner = app.owner().await;
    let (acc, tid, _) = account_with_manager(&app, &owner, "contoso").await;
    let (b, _) = Browser::sign_in(&app, "personal.onatrium.local", &app.owner_upn, OWNER_PASSWORD).await;
    let origin = Some(app.base.as_str());
    let (status, html, _) = b.get("/subscriptions").await;
    assert_eq!(status, 200);
    assert!(html.contains("You have no subscriptions") && html.contains("href=\"/subscriptions\" aria-current=\"page\""), "{html}");
    let csrf = csrf_of(&html);
    // Every POST needs the session's CSRF token.
    assert_eq!(b.post("/subscriptions", &[("name", "No token")], origin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.post("/subscriptions", &[("csrf", "forged"), ("name", "Forged")], origin).await.0, StatusCode::FORBIDDEN);
    let (status, html, _) = b.post("/subscriptions", &[("csrf", &csrf), ("name", " ")], origin).await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"name-error\""), "{html}");
    let (status, _, location) = b.post("/subscriptions", &[("csrf", &csrf), ("name", "Pay-As-You-Go")], origin).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sub = location.unwrap();
    for (path, text) in [
        ("", "personal.onatrium.local"),
        ("/use-directory", "Directory (domain or tenant ID)"),
        ("/directory", "No directory to choose yet"),
        ("/administrators", "No co-administrators"),
        ("/disable", "Disable Pay-As-You-Go?"),
    ] {
        let (status, html, _) = b.get(&format!("{sub}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains(text), "{path} shows {text:?}: {html}");
    }

    // Step 1: an unknown directory is refused next to the field; then the code, shown once.
    let (status, html, _) = b.post(&format!("{sub}/use-directory"), &[("csrf", &csrf), ("tenant", "nowhere.onatrium.local")], origin).await;
    assert_eq!(status, 404);
    assert!(html.contains("id=\"tenant-error\""), "{html}");
    assert_eq!(b.post(&format!("{sub}/use-directory"), &[("tenant", "contoso.onatrium.local")], origin).await.0, StatusCode::FORBIDDEN);
    let (status, html, _) = b.post(&format!("{sub}/use-directory"), &[("csrf", &csrf), ("tenant", "contoso.onatrium.local")], origin).await;
    assert_eq!(status, 200, "{html}");
    let code = text_of(&html, "consent-code");
    assert!(code.starts_with("atrd_"));
    assert!(!b.get(&sub).await.1.contains(&code), "the code is not shown again");

    // Step 2 in the console: the review changes nothing; Continue consents.
    let (ab, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let (_, html, _) = ab.get("/directory-consent").await;
    let admin_csrf = csrf_of(&html);
    assert_eq!(ab.post("/directory-consent/continue", &[("code", &code)], origin).await.0, StatusCode::FORBIDDEN);
    let (status, html, _) = ab.post("/directory-consent/review", &[("csrf", &admin_csrf), ("code", &code)], origin).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(text_of(&html, "review-subscription"), "Pay-As-You-Go");
    let (status, html, _) = ab.post("/directory-consent/continue", &[("csrf", &admin_csrf), ("code", &code)], origin).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Sign out now"));
    // Single use.
    let (status, html, _) = ab.post("/directory-consent/review", &[("csrf", &admin_csrf), ("code", &code)], origin).await;
    assert_eq!(status, 404);
    assert!(html.contains("id=\"code-error\""), "{html}");

    // Step 3: the confirm page (a GET, changes nothing), then Confirm.
    let (_, html, _) = b.get(&format!("{sub}/directory")).await;
    assert!(html.contains("contoso.onatrium.local – consented"), "{html}");
    let (status, html, _) = b.get(&format!("{sub}/directory/confirm?tenantId={tid}")).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(text_of(&html, "confirm-from"), "personal.onatrium.local");
    assert_eq!(text_of(&html, "confirm-to"), "contoso.onatrium.local");
    assert_eq!(b.post(&format!("{sub}/directory/confirm"), &[("tenantId", &tid)], origin).await.0, StatusCode::FORBIDDEN);
    assert!(!text_of(&b.get(&sub).await.1, "sub-directory").contains("contoso"), "refused posts change nothing");
    let (status, _, location) = b.post(&format!("{sub}/directory/confirm"), &[("csrf", &csrf), ("tenantId", &tid)], origin).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, Some(format!("{sub}?done=directory"))));

    // Step 4: a user outside the directory is refused next to the field.
    let (status, html, _) = b.post(&format!("{sub}/administrators"), &[("csrf", &csrf), ("email", "someone@nowhere.example")], origin).await;
    assert_eq!(status, 409);
    assert!(html.contains("id=\"email-error\"") && html.contains("No user of contoso.onatrium.local"), "{html}");
    let (status, _, _) = b.post(&format!("{sub}/administrators"), &[("csrf", &csrf), ("email", "admin@contoso.onatrium.local")], origin).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Step 5: the deployment page's drop-down, for the owner and the co-administrator.
    let other = create_subscription(&app, &owner, "Dev/Test").await;
    for browser in [&b, &ab] {
        let (status, html, _) = browser.get(&format!("/accounts/{acc}/deployment")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Pay-As-You-Go (contoso.onatrium.local)") && !html.contains(&other), "{html}");
    }
    // Disabled, it leaves the drop-down.
    let (status, _, _) = b.post(&format!("{sub}/disable"), &[("csrf", &csrf)], origin).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html, _) = ab.get(&format!("/accounts/{acc}/deployment")).await;
    assert!(html.contains("id=\"no-subscriptions\"") && !html.contains("Pay-As-You-Go"), "{html}");
}

/// Seed 002 "Edit a user, group, or Azure AD application" and "Delete from organization": the
/// console offers each where the service allows it, saves through it, shows its errors next to
/// the fields, and shows why a SCIM-provisioned object's names cannot be changed here.
async fn console_directory_edits_follow_the_service(app: TestApp) {
    use serde_json::json;
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(&app, &owner, "contoso").await;
    let carol = app.create_user(&admin, &tid, "carol").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "user", "id": carol, "tenantId": tid}]), json!({"roles": ["developer"]})).await;
    let group = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "QA"})).await.ok()["id"].as_str().unwrap().to_owned();
    let reader = app.create_user(&admin, &tid, "reader").await["id"].as_str().unwrap().to_owned();
    add(&app, &admin, &acc, json!([{"type": "user", "id": reader, "tenantId": tid}]), json!({"permissions": [{"permission": "account_users", "level": "read_only"}]})).await;

    let (b, _) = Browser::sign_in(&app, "contoso.onatrium.local", "admin", "Adm1n-Passw0rd!").await;
    let page = format!("/accounts/{acc}/members/user/{carol}");
    let (_, html, _) = b.get(&page).await;
    assert!(html.contains(&format!("href=\"{page}/edit\">Edit details</a>")) && html.contains(&format!("href=\"{page}/delete\">Delete from organization</a>")), "{html}");
    // A bad username is reported next to its field; nothing changes.
    let (status, html, _) = b.get(&format!("{page}/edit")).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);
    let (status, html, _) = b
        .post(&format!("{page}/edit"), &[("csrf", &csrf), ("givenName", "Caroline"), ("surname", "Lee"), ("userPrincipalName", "not a name")], Some(&app.base))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"userPrincipalName-error\""), "{html}");
    let (status, _, location) = b
        .post(&format!("{page}/edit"), &[("csrf", &csrf), ("givenName", "Caroline"), ("surname", "Lee"), ("userPrincipalName", "caroline"), ("group", &group)], Some(&app.base))
        .await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(page.as_str())));
    let u = app.get(&format!("/api/v1/tenants/{tid}/users/{carol}"), &admin).await;
    assert_eq!((&u.ok()["displayName"], &u.body["givenName"], &u.body["userPrincipalName"]), (&json!("Caroline Lee"), &json!("Caroline"), &json!("caroline@contoso.onatrium.local")));
    let groups = app.get(&format!("/api/v1/tenants/{tid}/users/{carol}/groups"), &admin).await;
    assert_eq!(groups.ok()[0]["displayName"], "QA");
    // Unticking the group takes the user out of it.
    let (status, _, _) = b.post(&format!("{page}/edit"), &[("csrf", &csrf), ("givenName", "Caroline"), ("surname", "Lee"), ("userPrincipalName", "caroline")], Some(&app.base)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/users/{carol}/groups"), &admin).await.ok().as_array().unwrap().len(), 0);

    // A member with read-only access to users sees why Edit access and Remove are not offered.
    let (r, _) = Browser::sign_in(&app, "contoso.onatrium.local", "reader", "Us3r-Passw0rd!").await;
    let (status, html, _) = r.get(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("disabled aria-describedby=\"access-why\">Edit access</button>") && !html.contains(&format!("{page}/access")), "{html}");
    assert!(html.contains("aria-describedby=\"access-why\">Remove</button>") && html.contains("id=\"access-why\">This needs the"), "{html}");
    assert!(!html.contains("Edit details") && !html.contains("Delete from organization"), "{html}");
    assert_eq!(r.get(&format!("{page}/edit")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(r.get(&format!("{page}/access")).await.0, StatusCode::FORBIDDEN);

    // Delete from organization, behind its confirmation page: gone from the account and the directory.
    let (status, html, _) = b.get(&format!("{page}/delete")).await;
    assert_eq!(status, 200);
    assert!(html.contains("role=\"alertdialog\"") && html.contains("deleted from the directory of contoso.onatrium.local"), "{html}");
    let (status, _, location) = b.post(&format!("{page}/delete"), &[("csrf", &csrf_of(&html))], Some(&app.base)).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, Some(format!("/accounts/{acc}/users"))));
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/users/{carol}"), &admin).await.status, 404);

    // Objects a SCIM source owns: the reason instead of the name fields; no delete.
    let value = app.post(&format!("/api/v1/tenants/{tid}/provisioning/tokens"), &admin, json!({"name": "Entra"})).await.ok()["token"].as_str().unwrap().to_owned();
    let p = app.services.authenticate_provisioner(&atrium_core::secret::Secret::new(value)).await.unwrap();
    let input = atrium_core::services::provisioning::ProvisionUser { user_name: "pat@contoso.com".into(), given_name: Some("Pat".into()), family_name: Some("Synced".into()), ..Default::default() };
    let pat = app.services.provision_user(&p, input).await.unwrap();
    let (sg, _) = app
        .services
        .provision_group(&p, atrium_core::services::provisioning::ProvisionGroup { display_name: "Synced team".into(), external_id: None, members: Some(vec![pat.id.to_string()]) })
        .await
        .unwrap();
    add(&app, &admin, &acc, json!([{"type": "user", "id": pat.id.to_string(), "tenantId": tid}, {"type": "group", "id": sg.id.to_string(), "tenantId": tid}]), json!({"roles": ["developer"]})).await;
    let pat_page = format!("/accounts/{acc}/members/user/{}", pat.id);
    let (_, html, _) = b.get(&pat_page).await;
    assert!(html.contains("id=\"source-owned\">This user is provisioned by SCIM") && !html.contains("Delete from organization"), "{html}");
    let (status, html, _) = b.get(&format!("{pat_page}/edit")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"source-owned\">This user is provisioned by SCIM") && !html.contains("name=\"givenName\""), "{html}");
    // Its synchronized group is shown, locked; the tenant's own group can still be ticked.
    assert!(html.contains("disabled> Synced team <span class=\"tag\">Synchronized</span>"), "{html}");
    let (status, _, _) = b.post(&format!("{pat_page}/edit"), &[("csrf", &csrf), ("group", &group)], Some(&app.base)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let groups = app.get(&format!("/api/v1/tenants/{tid}/users/{}/groups", pat.id), &admin).await;
    assert_eq!(groups.ok().as_array().unwrap().len(), 2, "{}", groups.body);
    assert_eq!(b.get(&format!("{pat_page}/delete")).await.0, StatusCode::BAD_REQUEST);
    let (status, html, _) = b.get(&format!("/accounts/{acc}/members/group/{}/edit", sg.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"source-owned\">This group is provisioned by SCIM") && !html.contains("name=\"displayName\""), "{html}");
}

/// Tenant create checks the whole form: every field's error at once, each next to its field.
async fn console_tenant_create_shows_every_field_error(app: TestApp) {
    let b = Browser::owner(&app).await;
    let (_, html, _) = b.get("/accounts").await;
    let (_, _, location) = b.post("/accounts", &[("csrf", &csrf_of(&html)), ("name", "Contoso Games")], Some(&app.base)).await;
    let acc = location.unwrap().trim_end_matches("/tenants").to_owned();
    let (_, html, _) = b.get(&format!("{acc}/tenants/new")).await;
    let bad = [
        ("csrf", csrf_of(&html).as_str()),
        ("domainPrefix", "no good"),
        ("contactEmail", "not-an-email"),
        ("globalAdmin.givenName", ""),
        ("globalAdmin.surname", "Admin"),
        ("globalAdmin.username", "admin"),
        ("globalAdmin.password", "weak"),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html, _) = b.post(&format!("{acc}/tenants/new"), &pairs, Some(&app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["domainPrefix", "contactEmail", "globalAdmin.givenName", "globalAdmin.password"] {
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{field} has its error: {html}");
    }
    assert!(!html.contains("globalAdmin.surname-error"), "{html}");
}
