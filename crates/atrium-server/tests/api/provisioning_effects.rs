//! What SCIM provisioning does across Atrium (issue 14), driven through the services a SCIM
//! endpoint calls and observed where people notice: sign-in, sessions and refresh tokens, the
//! directory REST API, Partner Center access and the audit log. On both backends.

use crate::accounts::{account_with_manager, add};
use crate::helpers::TestApp;
use atrium_core::error::ErrorCode;
use atrium_core::ids::TenantId;
use atrium_core::model::ProvisionedEmail;
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::{NewProvisioningToken, ProvisionGroup, ProvisionUser, Provisioner};
use serde_json::{Value, json};

api_tests!(
    deprovisioning_blocks_sign_in_and_revokes_sessions_and_refresh_tokens,
    deleting_a_provisioned_user_removes_memberships_and_is_audited,
    provisioned_group_membership_changes_effective_access_at_once,
    rest_refuses_synced_changes_but_account_roles_still_change,
    expired_and_revoked_tokens_no_longer_authenticate,
    a_provisioning_token_refuses_rest_creation,
    concurrent_user_names_differing_in_case_one_wins,
);

const TOKEN_NAME: &str = "Entra provisioning";

/// A partner account with the tenant `contoso` (its global admin `admin` is a Manager), a
/// confidential application made before the tenant became directory-synced, and a
/// provisioning token of that tenant.
struct Synced {
    owner: String,
    acc: String,
    tid: String,
    admin: String,
    client_id: String,
    client_secret: String,
    /// The setup token's value and the provisioner it authenticates as.
    token: Secret,
    p: Provisioner,
}

async fn setup(app: &TestApp) -> Synced {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(app, &owner, "contoso").await;
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Web", "replyUrls": ["https://web.contoso.com/cb"]})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let k = app.post(&format!("/api/v1/tenants/{tid}/applications/{}/keys", a.body["id"].as_str().unwrap()), &admin, json!({})).await;
    assert_eq!(k.status, 201, "{}", k.body);
    let actor = app.services.authenticate(&Secret::new(admin.clone())).await.unwrap();
    let tenant = TenantId::parse(&tid, "tenantId").unwrap();
    let created = app.services.create_provisioning_token(&actor, tenant, NewProvisioningToken { name: TOKEN_NAME.into(), valid_days: None }).await.unwrap();
    let p = app.services.authenticate_provisioner(&created.value).await.unwrap();
    assert_eq!((p.tenant_id, p.name.as_str()), (tenant, TOKEN_NAME));
    Synced {
        owner,
        acc,
        tid,
        admin,
        client_id: a.body["appId"].as_str().unwrap().to_owned(),
        client_secret: k.body["secret"].as_str().unwrap().to_owned(),
        token: created.value,
        p,
    }
}

/// What a source sends for a person: userName in the tenant's domain (so it is the sign-in name).
fn person(alias: &str, active: Option<bool>) -> ProvisionUser {
    ProvisionUser {
        user_name: format!("{alias}@contoso.onatrium.local"),
        external_id: Some(format!("ext-{alias}")),
        given_name: Some("Test".into()),
        family_name: Some(alias.into()),
        emails: vec![ProvisionedEmail { value: format!("{alias}@contoso.com"), kind: Some("work".into()), primary: true, display: None }],
        active,
        title: Some("Engineer".into()),
        ..ProvisionUser::default()
    }
}

/// Gives a provisioned user a password as Partner Center does (they have none of their own),
/// signs them in and changes it. Returns their session token.
async fn sign_in_provisioned(app: &TestApp, s: &Synced, alias: &str, user_id: &str, password: &str) -> String {
    let r = app.post(&format!("/api/v1/accounts/{}/members/user/{user_id}/reset-password", s.acc), &s.admin, json!({})).await;
    let temp = r.ok()["temporaryPassword"].as_str().unwrap().to_owned();
    let session = app.token("contoso.onatrium.local", alias, &temp).await;
    app.post("/api/v1/me/password", &session, json!({"currentPassword": temp, "newPassword": password})).await.ok();
    assert_eq!(app.get("/api/v1/me", &session).await.ok()["user"]["id"], user_id);
    session
}

async fn oauth(app: &TestApp, tid: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn account_member_ids(app: &TestApp, s: &Synced) -> Vec<String> {
    let r = app.get(&format!("/api/v1/accounts/{}/members", s.acc), &s.admin).await;
    r.ok().as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
}

/// The Manager's access check of `user` for the payout account permission (Finance Contributor has it).
async fn payout(app: &TestApp, s: &Synced, user: &str) -> Value {
    let r = app.post(&format!("/api/v1/accounts/{}/access/check", s.acc), &s.admin, json!({"principal": {"type": "user", "id": user}, "permission": "payout_account"})).await;
    r.ok().clone()
}

/// The tenant's audit events with this action.
async fn audit_events(app: &TestApp, token: &str, tid: &str, action: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/audit?tenantId={tid}"), token).await;
    r.ok().as_array().unwrap().iter().filter(|e| e["action"] == action).cloned().collect()
}

async fn deprovisioning_blocks_sign_in_and_revokes_sessions_and_refresh_tokens(app: TestApp) {
    let s = setup(&app).await;
    let adele = app.services.provision_user(&s.p, person("adele", None)).await.unwrap();
    let id = adele.id.to_string();
    assert_eq!(adele.upn.as_str(), "adele@contoso.onatrium.local");
    add(&app, &s.admin, &s.acc, json!([{"type": "user", "id": id}]), json!({"roles": ["developer"]})).await;
    let session = sign_in_provisioned(&app, &s, "adele", &id, "Ad3le-Passw0rd!").await;
    let ropc = [
        ("grant_type", "password"),
        ("client_id", s.client_id.as_str()),
        ("client_secret", s.client_secret.as_str()),
        ("username", "adele@contoso.onatrium.local"),
        ("password", "Ad3le-Passw0rd!"),
        ("scope", "User.Read offline_access openid"),
    ];
    let first = oauth(&app, &s.tid, &ropc).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let rt = first.1["refresh_token"].as_str().unwrap().to_owned();
    let refresh = [("grant_type", "refresh_token"), ("client_id", s.client_id.as_str()), ("client_secret", s.client_secret.as_str()), ("refresh_token", rt.as_str())];

    // The source sets active: false.
    let off = app.services.replace_provisioned_user(&s.p, &id, person("adele", Some(false)), Some(adele.updated_at)).await.unwrap();
    assert!(!off.enabled);
    app.get("/api/v1/me", &session).await.assert_error(401, "unauthenticated", None);
    app.sign_in("contoso.onatrium.local", "adele", "Ad3le-Passw0rd!").await.assert_error(403, "account_disabled", None);
    assert_eq!(oauth(&app, &s.tid, &refresh).await.1["error"], "invalid_grant");
    assert_eq!(oauth(&app, &s.tid, &ropc).await.1["error"], "invalid_grant");
    assert_eq!(app.get(&format!("/api/v1/tenants/{}/users/{id}", s.tid), &s.admin).await.ok()["enabled"], false);

    // Back on: the old session and refresh token stay dead (they were revoked, not only
    // refused while disabled), and a new sign-in works.
    app.services.replace_provisioned_user(&s.p, &id, person("adele", Some(true)), None).await.unwrap();
    app.get("/api/v1/me", &session).await.assert_error(401, "unauthenticated", None);
    assert_eq!(oauth(&app, &s.tid, &refresh).await.1["error"], "invalid_grant");
    let again = app.token("contoso.onatrium.local", "adele", "Ad3le-Passw0rd!").await;
    assert_eq!(app.get("/api/v1/me", &again).await.ok()["user"]["enabled"], true);
    assert_eq!(oauth(&app, &s.tid, &ropc).await.0, 200);

    // Both changes are in the audit log with the token as the actor.
    let updates = audit_events(&app, &s.admin, &s.tid, "user.provision.update").await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    for e in &updates {
        assert_eq!(e["details"]["actor"], format!("SCIM: {TOKEN_NAME}"), "{e}");
        assert_eq!(e["targetId"], id.as_str());
        assert!(e["actorUserId"].is_null(), "no user acted: {e}");
    }
}

async fn deleting_a_provisioned_user_removes_memberships_and_is_audited(app: TestApp) {
    let s = setup(&app).await;
    let bob = app.services.provision_user(&s.p, person("bob", Some(true))).await.unwrap();
    let carol = app.services.provision_user(&s.p, person("carol", None)).await.unwrap();
    let (bid, cid) = (bob.id.to_string(), carol.id.to_string());
    let (group, members) = app.services.provision_group(&s.p, ProvisionGroup { display_name: "Engineering".into(), external_id: None, members: Some(vec![bid.clone(), cid.clone()]) }).await.unwrap();
    assert_eq!(members.len(), 2);
    let gid = group.id.to_string();
    add(&app, &s.admin, &s.acc, json!([{"type": "user", "id": bid}, {"type": "group", "id": gid}]), json!({"roles": ["developer"]})).await;
    assert!(account_member_ids(&app, &s).await.contains(&bid));
    let session = sign_in_provisioned(&app, &s, "bob", &bid, "B0b-Passw0rd!x").await;

    app.services.delete_provisioned_user(&s.p, &bid, None).await.unwrap();
    app.get(&format!("/api/v1/tenants/{}/users/{bid}", s.tid), &s.admin).await.assert_error(404, "user_not_found", None);
    app.get("/api/v1/me", &session).await.assert_error(401, "unauthenticated", None);
    let left = app.get(&format!("/api/v1/tenants/{}/groups/{gid}/members", s.tid), &s.admin).await;
    let left: Vec<&str> = left.ok()["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(left, [cid.as_str()], "bob left the group; carol stays");
    let after = account_member_ids(&app, &s).await;
    assert!(!after.contains(&bid), "bob's account membership went with him: {after:?}");
    assert!(after.contains(&gid), "the group stays a member");
    // Gone for SCIM too, and a second delete is a 404.
    assert_eq!(app.services.get_provisioned_user(&s.p, &bid).await.unwrap_err().code, ErrorCode::UserNotFound);
    assert_eq!(app.services.delete_provisioned_user(&s.p, &bid, None).await.unwrap_err().code, ErrorCode::UserNotFound);

    let deletes = audit_events(&app, &s.admin, &s.tid, "user.provision.delete").await;
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    let e = &deletes[0];
    assert_eq!(e["details"]["actor"], format!("SCIM: {TOKEN_NAME}"), "{e}");
    assert_eq!(e["details"]["provisioningTokenId"], s.p.token_id.to_string());
    assert_eq!(e["details"]["userName"], "bob@contoso.onatrium.local");
    assert_eq!((e["targetType"].as_str(), e["targetId"].as_str()), (Some("user"), Some(bid.as_str())));
}

async fn provisioned_group_membership_changes_effective_access_at_once(app: TestApp) {
    let s = setup(&app).await;
    let dana = app.services.provision_user(&s.p, person("dana", None)).await.unwrap();
    let did = dana.id.to_string();
    let (group, _) = app.services.provision_group(&s.p, ProvisionGroup { display_name: "Finance".into(), external_id: Some("fin-1".into()), members: Some(vec![]) }).await.unwrap();
    let gid = group.id.to_string();
    // R8: only the owner may grant Finance Contributor.
    add(&app, &s.owner, &s.acc, json!([{"type": "group", "id": gid, "tenantId": s.tid}]), json!({"roles": ["finance_contributor"]})).await;
    let check = format!("/api/v1/accounts/{}/access/check", s.acc);
    assert_eq!(payout(&app, &s, &did).await["allowed"], false, "not in the group yet");

    app.services.change_provisioned_group_members(&s.p, &gid, std::slice::from_ref(&did), &[]).await.unwrap();
    let r = payout(&app, &s, &did).await;
    assert_eq!(r["allowed"], true, "{r}");
    assert_eq!(r["because"][0]["source"]["kind"], "group");
    assert_eq!(r["because"][0]["via"]["role"], "finance_contributor");
    // The person sees it on their own access check too.
    let session = {
        add(&app, &s.admin, &s.acc, json!([{"type": "user", "id": did}]), json!({"roles": ["developer"]})).await;
        sign_in_provisioned(&app, &s, "dana", &did, "D4na-Passw0rd!").await
    };
    assert_eq!(app.post(&check, &session, json!({"permission": "payout_account"})).await.ok()["allowed"], true);

    app.services.change_provisioned_group_members(&s.p, &gid, &[], std::slice::from_ref(&did)).await.unwrap();
    assert_eq!(payout(&app, &s, &did).await["allowed"], false, "removed from the group: the role is gone at once");
    assert_eq!(app.post(&check, &session, json!({"permission": "payout_account"})).await.ok()["allowed"], false);
    // A whole-list replace (SCIM PUT) counts the same.
    app.services.replace_provisioned_group(&s.p, &gid, ProvisionGroup { display_name: "Finance".into(), external_id: None, members: Some(vec![did.clone()]) }, None).await.unwrap();
    assert_eq!(payout(&app, &s, &did).await["allowed"], true);
    let changes = audit_events(&app, &s.admin, &s.tid, "group.provision.members").await;
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|e| e["details"]["actor"] == format!("SCIM: {TOKEN_NAME}")));
}

async fn rest_refuses_synced_changes_but_account_roles_still_change(app: TestApp) {
    let s = setup(&app).await;
    let erin = app.services.provision_user(&s.p, person("erin", None)).await.unwrap();
    let eid = erin.id.to_string();
    let user = format!("/api/v1/tenants/{}/users/{eid}", s.tid);
    for body in [
        json!({"displayName": "Someone Else"}),
        json!({"userPrincipalName": "erin2"}),
        json!({"enabled": false}),
        json!({"givenName": "Erin", "surname": "X"}),
        json!({"mail": "other@contoso.com"}),
    ] {
        let r = app.patch(&user, &s.admin, body.clone()).await;
        r.assert_error(400, "source_of_authority", None);
        assert!(r.body["error"]["message"].as_str().unwrap().contains("SCIM"), "{body}: {}", r.body);
    }
    app.delete(&user, &s.admin).await.assert_error(400, "source_of_authority", None);
    let unchanged = app.get(&user, &s.admin).await;
    assert_eq!((unchanged.ok()["displayName"].as_str(), unchanged.body["enabled"].as_bool()), (Some("Test erin"), Some(true)));
    assert_eq!(unchanged.body["userPrincipalName"], "erin@contoso.onatrium.local");

    // R9: the account's own roles on the person are Partner Center's to change.
    let members = format!("/api/v1/accounts/{}/members", s.acc);
    add(&app, &s.admin, &s.acc, json!([{"type": "user", "id": eid}]), json!({"roles": ["developer"]})).await;
    let r = app.patch(&format!("{members}/user/{eid}"), &s.admin, json!({"grant": {"roles": ["marketer"]}})).await;
    assert_eq!(r.ok()["grant"]["roles"][0], "marketer");
    // Deleting from the organization would delete the directory object: that is the source's.
    app.post(&format!("{members}/user/{eid}/delete-from-organization"), &s.admin, json!({}))
        .await
        .assert_error(400, "source_of_authority", None);
    assert_eq!(app.get(&user, &s.admin).await.status, 200);
    // Removing the account membership leaves the directory alone, so it is allowed.
    assert_eq!(app.delete(&format!("{members}/user/{eid}"), &s.admin).await.status, 204);

    // Groups: name, deletion and members are the source's.
    let (g, _) = app.services.provision_group(&s.p, ProvisionGroup { display_name: "Support".into(), external_id: None, members: Some(vec![eid.clone()]) }).await.unwrap();
    let group = format!("/api/v1/tenants/{}/groups/{}", s.tid, g.id);
    let other = app.services.provision_user(&s.p, person("frank", None)).await.unwrap();
    app.patch(&group, &s.admin, json!({"displayName": "Helpdesk"})).await.assert_error(400, "source_of_authority", None);
    app.post(&format!("{group}/members"), &s.admin, json!({"userId": other.id.to_string()})).await.assert_error(400, "source_of_authority", None);
    app.delete(&format!("{group}/members/{eid}"), &s.admin).await.assert_error(400, "source_of_authority", None);
    app.delete(&group, &s.admin).await.assert_error(400, "source_of_authority", None);
    assert_eq!(app.get(&group, &s.admin).await.ok()["displayName"], "Support");
    let left = app.get(&format!("{group}/members"), &s.admin).await;
    assert_eq!(left.ok()["items"].as_array().unwrap().len(), 1);
    // …while the account may still grant the group a role (R9).
    add(&app, &s.admin, &s.acc, json!([{"type": "group", "id": g.id.to_string()}]), json!({"roles": ["developer"]})).await;
}

async fn expired_and_revoked_tokens_no_longer_authenticate(app: TestApp) {
    let s = setup(&app).await;
    let actor = app.services.authenticate(&Secret::new(s.admin.clone())).await.unwrap();
    let tenant = s.p.tenant_id;
    let short = app.services.create_provisioning_token(&actor, tenant, NewProvisioningToken { name: "Okta".into(), valid_days: Some(1) }).await.unwrap();
    let spare = app.services.create_provisioning_token(&actor, tenant, NewProvisioningToken { name: "HR".into(), valid_days: Some(30) }).await.unwrap();
    assert_eq!(app.services.authenticate_provisioner(&short.value).await.unwrap().name, "Okta");
    let listed: Vec<String> = app.services.list_provisioning_tokens(&actor, tenant).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");

    // Revoked: refused at once.
    app.services.revoke_provisioning_token(&actor, tenant, spare.token.id).await.unwrap();
    let e = app.services.authenticate_provisioner(&spare.value).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    // A look-alike of a valid value (one character changed) is refused the same way.
    let valid = s.token.expose();
    let last = if valid.ends_with('A') { 'B' } else { 'A' };
    let forged = Secret::new(format!("{}{last}", &valid[..valid.len() - 1]));
    assert_eq!(app.services.authenticate_provisioner(&forged).await.unwrap_err().code, ErrorCode::Unauthenticated);

    // Expired: a day later the one-day token is refused, the year-long one still works.
    app.clock.advance_seconds(86_400 - 1);
    assert!(app.services.authenticate_provisioner(&short.value).await.is_ok(), "valid until its last second");
    app.clock.advance_seconds(1);
    assert_eq!(app.services.authenticate_provisioner(&short.value).await.unwrap_err().code, ErrorCode::Unauthenticated);
    assert!(app.services.authenticate_provisioner(&s.token).await.is_ok(), "the default token lasts a year");
}

async fn a_provisioning_token_refuses_rest_creation(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "fabrikam").await;
    // Before: REST creates users.
    app.create_user(&admin, &tid, "early").await;
    let t = app.get(&format!("/api/v1/tenants/{tid}"), &admin).await;
    assert_eq!(t.ok()["directorySync"], false);
    let actor = app.services.authenticate(&Secret::new(admin.clone())).await.unwrap();
    let tenant = TenantId::parse(&tid, "tenantId").unwrap();
    app.services.create_provisioning_token(&actor, tenant, NewProvisioningToken { name: TOKEN_NAME.into(), valid_days: Some(90) }).await.unwrap();
    // R5: the tenant is directory-synced now; people arrive through SCIM.
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok()["directorySync"], true);
    let r = app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "late", "givenName": "L", "surname": "Ate", "password": "Us3r-Passw0rd!"})).await;
    r.assert_error(409, "directory_sync_enabled", None);
    app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "Late"})).await.assert_error(409, "directory_sync_enabled", None);
    // The user made before stays editable: no source owns them.
    let early = app.get(&format!("/api/v1/tenants/{tid}/users/early"), &admin).await.ok()["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/v1/tenants/{tid}/users/{early}"), &admin, json!({"displayName": "Early Bird"})).await.ok();
    assert!(app.audit_actions(&admin, &tid).await.contains(&"provisioning.token.create".to_owned()));
}

async fn concurrent_user_names_differing_in_case_one_wins(app: TestApp) {
    let s = setup(&app).await;
    for round in 0..4 {
        let (a, b) = (format!("Jo.Doe{round}@Example.com"), format!("jo.doe{round}@example.COM"));
        let (ra, rb) = tokio::join!(
            app.services.provision_user(&s.p, ProvisionUser { user_name: a.clone(), ..ProvisionUser::default() }),
            app.services.provision_user(&s.p, ProvisionUser { user_name: b.clone(), ..ProvisionUser::default() }),
        );
        let (won, lost) = match (ra, rb) {
            (Ok(u), Err(e)) | (Err(e), Ok(u)) => (u, e),
            (ra, rb) => panic!("round {round}: exactly one must succeed: {ra:?} / {rb:?}"),
        };
        assert_eq!(lost.code, ErrorCode::UserNameTaken, "round {round}: {lost:?}");
        assert_eq!((lost.code.as_str(), lost.code.http_status()), ("user_name_taken", 409));
        let name = won.provisioning.as_ref().unwrap().user_name.clone();
        assert!(name == a || name == b);
        let page = app.services.query_provisioned_users(&s.p, None, 0, 100).await.unwrap();
        let same: Vec<_> = page.items.iter().filter(|u| u.provisioning.as_ref().unwrap().user_name.eq_ignore_ascii_case(&a)).collect();
        assert_eq!(same.len(), 1, "round {round}: one user holds the userName");
        assert_eq!(page.total, round + 1);
    }
    // Sequentially the answer is the same.
    let e = app.services.provision_user(&s.p, ProvisionUser { user_name: "JO.DOE0@EXAMPLE.COM".into(), ..ProvisionUser::default() }).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::UserNameTaken);
}
