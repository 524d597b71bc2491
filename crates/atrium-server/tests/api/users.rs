use crate::helpers::TestApp;
use serde_json::json;

api_tests!(
    user_lifecycle,
    temporary_passwords_are_shown_once_and_must_be_changed,
    user_input_is_validated,
    users_of_other_tenants_are_not_found,
    members_read_but_only_global_admins_write,
    user_search_and_pagination,
    directory_sync_tenants_refuse_creates,
    admins_cannot_lock_themselves_out,
    editing_details_and_groups_is_all_or_nothing,
);

/// Seed 002's "Edit a user" saves names and groups in one transaction: a refused group change
/// leaves the new name unsaved, and a good one saves both.
async fn editing_details_and_groups_is_all_or_nothing(app: TestApp) {
    use atrium_core::ids::{GroupId, TenantId, UserId};
    use atrium_core::secret::Secret;
    use atrium_core::services::UserPatch;
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let r = app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "pat", "givenName": "Pat", "password": "Us3r-Passw0rd!"})).await;
    let uid = UserId::parse(r.body["user"]["id"].as_str().unwrap(), "id").unwrap();
    let g = app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "Engineering"})).await;
    let gid = GroupId::parse(g.body["id"].as_str().unwrap(), "id").unwrap();
    let tenant = TenantId::parse(&tid, "id").unwrap();
    let actor = app.services.authenticate(&Secret::new(admin.clone())).await.unwrap();
    let rename = || UserPatch { display_name: Some("Pat Renamed".into()), ..UserPatch::default() };
    let missing = GroupId::from_uuid(uuid::Uuid::from_u128(7));
    let e = app.services.edit_user(&actor, tenant, uid, rename(), &[gid, missing], &[]).await.unwrap_err();
    assert_eq!(e.target.as_deref(), Some("groups"), "{e:?}");
    let u = app.services.get_user(&actor, tenant, &uid.to_string()).await.unwrap();
    assert_eq!(u.display_name.as_str(), "Pat", "the name is not saved when a group change is refused");
    assert!(app.services.list_user_groups(&actor, tenant, uid).await.unwrap().is_empty(), "nor is the first group");
    app.services.edit_user(&actor, tenant, uid, rename(), &[gid], &[]).await.unwrap();
    assert_eq!(app.services.get_user(&actor, tenant, &uid.to_string()).await.unwrap().display_name.as_str(), "Pat Renamed");
    assert_eq!(app.services.list_user_groups(&actor, tenant, uid).await.unwrap().len(), 1);
}

async fn user_lifecycle(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let users = format!("/api/v1/tenants/{tid}/users");
    let r = app
        .post(&users, &admin, json!({"userPrincipalName": "Adele.Vance@contoso.onatrium.local", "givenName": "Adele", "surname": "Vance",
                                      "mail": "adele@contoso.com", "password": "Us3r-Passw0rd!"}))
        .await;
    assert_eq!(r.status, 201);
    let u = r.body["user"].clone();
    assert!(r.body.get("temporaryPassword").is_none());
    assert_eq!(u["displayName"], "Adele Vance");
    assert_eq!(u["userType"], "Member");
    assert_eq!(u["mustChangePassword"], false);
    assert!(u.get("passwordHash").is_none() && !r.body.to_string().contains("argon2"));
    let id = u["id"].as_str().unwrap();
    for reference in [id, "adele.vance@contoso.onatrium.local", "Adele.Vance"] {
        assert_eq!(app.get(&format!("{users}/{reference}"), &admin).await.ok()["id"], id, "{reference}");
    }

    let r = app.patch(&format!("{users}/{id}"), &admin, json!({"displayName": "Adele V.", "mail": null, "userPrincipalName": "adele"})).await;
    assert_eq!(r.ok()["displayName"], "Adele V.");
    assert!(r.body.get("mail").is_none());
    assert_eq!(r.body["userPrincipalName"], "adele@contoso.onatrium.local");
    app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;

    assert_eq!(app.delete(&format!("{users}/{id}"), &admin).await.status, 204);
    app.get(&format!("{users}/{id}"), &admin).await.assert_error(404, "user_not_found", None);
    let actions = app.audit_actions(&admin, &tid).await;
    for a in ["user.create", "user.update", "user.delete", "user.sign_in"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

async fn temporary_passwords_are_shown_once_and_must_be_changed(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let r = app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "bob"})).await;
    assert_eq!(r.status, 201);
    let temp = r.body["temporaryPassword"].as_str().unwrap().to_owned();
    assert_eq!(temp.len(), 16);
    assert_eq!(r.body["user"]["mustChangePassword"], true);
    // It is not shown again anywhere.
    let again = app.get(&format!("/api/v1/tenants/{tid}/users/bob"), &admin).await;
    assert!(!again.body.to_string().contains(&temp));
    let s = app.sign_in("contoso.onatrium.local", "bob", &temp).await;
    assert_eq!(s.ok()["mustChangePassword"], true);
    let bob = s.body["token"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/tenants/{tid}/users"), &bob).await.assert_error(403, "password_change_required", None);
    let r = app.post("/api/v1/me/password", &bob, json!({"currentPassword": temp, "newPassword": "B0b-Passw0rd!"})).await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/users"), &bob).await.status, 200);
}

async fn user_input_is_validated(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let users = format!("/api/v1/tenants/{tid}/users");
    let create = |body| app.post(&users, &admin, body);
    create(json!({"userPrincipalName": "bad name"})).await.assert_error(400, "invalid_user_principal_name", Some("userPrincipalName"));
    create(json!({"userPrincipalName": ".ann@contoso.onatrium.local"})).await.assert_error(400, "invalid_user_principal_name", Some("userPrincipalName"));
    create(json!({"userPrincipalName": "ann@fabrikam.com"})).await.assert_error(400, "upn_domain_not_verified", Some("userPrincipalName"));
    create(json!({"userPrincipalName": "ann", "mail": "not-an-email"})).await.assert_error(400, "invalid_email", Some("mail"));
    create(json!({"userPrincipalName": "ann", "password": "password"})).await.assert_error(400, "weak_password", Some("password"));
    create(json!({"userPrincipalName": "ann", "globalAdmin": true})).await.assert_error(400, "recovery_email_required", Some("recoveryEmail"));
    create(json!({"userPrincipalName": "ann", "givenName": "x".repeat(65)})).await.assert_error(400, "invalid_name", Some("givenName"));
    create(json!({"userPrincipalName": "ann", "isAdmin": true})).await.assert_error(400, "unknown_field", Some("isAdmin"));
    create(json!({"userPrincipalName": "ann"})).await.ok();
    create(json!({"userPrincipalName": "ANN@Contoso.onatrium.local"})).await.assert_error(409, "user_principal_name_taken", Some("userPrincipalName"));
    app.patch(&format!("{users}/not-a-guid"), &admin, json!({})).await.assert_error(400, "invalid_id", Some("userId"));
    let list = app.get(&users, &admin).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 2, "only admin and ann exist");
}

async fn users_of_other_tenants_are_not_found(app: TestApp) {
    let owner = app.owner().await;
    let (a, admin_a) = app.tenant_with_admin(&owner, "alpha").await;
    let (b, admin_b) = app.tenant_with_admin(&owner, "bravo").await;
    let ub = app.create_user(&admin_b, &b, "bob").await;
    let bob = ub["id"].as_str().unwrap();
    // Through tenant A's path, B's user does not exist.
    app.get(&format!("/api/v1/tenants/{a}/users/{bob}"), &admin_a).await.assert_error(404, "user_not_found", None);
    app.patch(&format!("/api/v1/tenants/{a}/users/{bob}"), &admin_a, json!({"displayName": "Hacked"})).await.assert_error(404, "user_not_found", None);
    app.delete(&format!("/api/v1/tenants/{a}/users/{bob}"), &admin_a).await.assert_error(404, "user_not_found", None);
    // And B's directory is invisible to A's admin.
    app.get(&format!("/api/v1/tenants/{b}/users"), &admin_a).await.assert_error(404, "tenant_not_found", None);
    app.post(&format!("/api/v1/tenants/{b}/users"), &admin_a, json!({"userPrincipalName": "x"})).await.assert_error(404, "tenant_not_found", None);
    assert_eq!(app.get(&format!("/api/v1/tenants/{b}/users/{bob}"), &admin_b).await.ok()["displayName"], "Test bob");
}

async fn members_read_but_only_global_admins_write(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    app.create_user(&admin, &tid, "adele").await;
    let adele = app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/users"), &adele).await.status, 200);
    app.post(&format!("/api/v1/tenants/{tid}/users"), &adele, json!({"userPrincipalName": "x"})).await.assert_error(403, "forbidden", None);
    app.post(&format!("/api/v1/tenants/{tid}/groups"), &adele, json!({"displayName": "G"})).await.assert_error(403, "forbidden", None);
    app.patch(&format!("/api/v1/tenants/{tid}"), &adele, json!({"displayName": "Mine"})).await.assert_error(403, "forbidden", None);
}

async fn user_search_and_pagination(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    for alias in ["user1", "user2", "user3", "user4", "user5", "user6", "user7"] {
        app.create_user(&admin, &tid, alias).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tenants/{tid}/users?limit=3&cursor={c}"),
            None => format!("/api/v1/tenants/{tid}/users?limit=3"),
        };
        let r = app.get(&path, &admin).await;
        let items = r.ok()["items"].as_array().unwrap().clone();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|u| u["userPrincipalName"].as_str().unwrap().split('@').next().unwrap().to_owned()));
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["admin", "user1", "user2", "user3", "user4", "user5", "user6", "user7"]);
    // By UPN prefix and by display name prefix ("Test userN", "Ada Admin").
    let s = app.get(&format!("/api/v1/tenants/{tid}/users?search=USER"), &admin).await;
    assert_eq!(s.ok()["items"].as_array().unwrap().len(), 7);
    let s = app.get(&format!("/api/v1/tenants/{tid}/users?search=ada%20a"), &admin).await;
    assert_eq!(s.ok()["items"][0]["userPrincipalName"], "admin@contoso.onatrium.local");
    app.get(&format!("/api/v1/tenants/{tid}/users?limit=abc"), &admin).await.assert_error(400, "invalid_limit", Some("limit"));
    app.get(&format!("/api/v1/tenants/{tid}/users?limit=500"), &admin).await.assert_error(400, "invalid_limit", Some("limit"));
}

async fn directory_sync_tenants_refuse_creates(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "synced").await;
    let r = app.patch(&format!("/api/v1/tenants/{tid}"), &owner, json!({"directorySync": true})).await;
    assert_eq!(r.ok()["directorySync"], true);
    app.post(&format!("/api/v1/tenants/{tid}/users"), &admin, json!({"userPrincipalName": "x"})).await.assert_error(409, "directory_sync_enabled", None);
    app.post(&format!("/api/v1/tenants/{tid}/groups"), &admin, json!({"displayName": "G"})).await.assert_error(409, "directory_sync_enabled", None);
    let list = app.get(&format!("/api/v1/tenants/{tid}/users"), &admin).await;
    assert_eq!(list.ok()["items"].as_array().unwrap().len(), 1);
}

async fn admins_cannot_lock_themselves_out(app: TestApp) {
    let owner = app.owner().await;
    let me = app.get("/api/v1/me", &owner).await.ok()["user"]["id"].as_str().unwrap().to_owned();
    let personal = "9188040d-6c67-4c5b-b112-36a304b66dad";
    app.delete(&format!("/api/v1/tenants/{personal}/users/{me}"), &owner).await.assert_error(409, "protected_object", None);
    app.patch(&format!("/api/v1/tenants/{personal}/users/{me}"), &owner, json!({"enabled": false}))
        .await
        .assert_error(409, "protected_object", Some("enabled"));
    app.patch(&format!("/api/v1/tenants/{personal}/users/{me}"), &owner, json!({"globalAdmin": false}))
        .await
        .assert_error(409, "protected_object", Some("globalAdmin"));
}
