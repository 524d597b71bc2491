use crate::helpers::TestApp;
use serde_json::json;

api_tests!(group_lifecycle_and_members, members_from_other_tenants_are_refused_and_nothing_is_written);

async fn group_lifecycle_and_members(app: TestApp) {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let adele = app.create_user(&admin, &tid, "adele").await["id"].as_str().unwrap().to_owned();
    let bob = app.create_user(&admin, &tid, "bob").await["id"].as_str().unwrap().to_owned();
    let groups = format!("/api/v1/tenants/{tid}/groups");
    let r = app.post(&groups, &admin, json!({"displayName": "Engineering", "description": "Builders", "members": [adele]})).await;
    assert_eq!(r.status, 201);
    let gid = r.body["id"].as_str().unwrap().to_owned();
    let members = format!("{groups}/{gid}/members");
    assert_eq!(app.post(&members, &admin, json!({"userId": bob})).await.status, 204);
    app.post(&members, &admin, json!({"userId": bob})).await.assert_error(409, "already_group_member", Some("userId"));
    let list = app.get(&members, &admin).await;
    let names: Vec<&str> = list.ok()["items"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap()).collect();
    assert_eq!(names, ["adele@contoso.onatrium.local", "bob@contoso.onatrium.local"]);
    let of_bob = app.get(&format!("/api/v1/tenants/{tid}/users/{bob}/groups"), &admin).await;
    assert_eq!(of_bob.ok()[0]["displayName"], "Engineering");

    app.post(&groups, &admin, json!({"displayName": "engineering"})).await.assert_error(409, "group_name_taken", Some("displayName"));
    let r = app.patch(&format!("{groups}/{gid}"), &admin, json!({"displayName": "Platform", "description": null})).await;
    assert_eq!(r.ok()["displayName"], "Platform");
    assert!(r.body.get("description").is_none());
    let found = app.get(&format!("{groups}?search=plat"), &admin).await;
    assert_eq!(found.ok()["items"].as_array().unwrap().len(), 1);

    assert_eq!(app.delete(&format!("{members}/{bob}"), &admin).await.status, 204);
    app.delete(&format!("{members}/{bob}"), &admin).await.assert_error(404, "user_not_found", Some("userId"));
    assert_eq!(app.delete(&format!("{groups}/{gid}"), &admin).await.status, 204);
    app.get(&format!("{groups}/{gid}"), &admin).await.assert_error(404, "group_not_found", None);
    assert_eq!(app.get(&format!("/api/v1/tenants/{tid}/users/{adele}"), &admin).await.status, 200, "members stay in the directory");
    let actions = app.audit_actions(&admin, &tid).await;
    for a in ["group.create", "group.member.add", "group.member.remove", "group.update", "group.delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
}

async fn members_from_other_tenants_are_refused_and_nothing_is_written(app: TestApp) {
    let owner = app.owner().await;
    let (a, admin_a) = app.tenant_with_admin(&owner, "alpha").await;
    let (b, admin_b) = app.tenant_with_admin(&owner, "bravo").await;
    let bob = app.create_user(&admin_b, &b, "bob").await["id"].as_str().unwrap().to_owned();
    let ann = app.create_user(&admin_a, &a, "ann").await["id"].as_str().unwrap().to_owned();
    let groups = format!("/api/v1/tenants/{a}/groups");
    // The second member is from tenant B: the whole create is refused, the group does not exist.
    app.post(&groups, &admin_a, json!({"displayName": "Team", "members": [ann, bob]})).await.assert_error(404, "user_not_found", Some("members[1]"));
    assert!(app.get(&groups, &admin_a).await.ok()["items"].as_array().unwrap().is_empty());
    app.post(&groups, &admin_a, json!({"displayName": "Team", "members": ["nope"]})).await.assert_error(400, "invalid_id", Some("members[0]"));
    let gid = app.post(&groups, &admin_a, json!({"displayName": "Team"})).await.ok()["id"].as_str().unwrap().to_owned();
    app.post(&format!("{groups}/{gid}/members"), &admin_a, json!({"userId": bob})).await.assert_error(404, "user_not_found", Some("userId"));
    assert!(app.get(&format!("{groups}/{gid}/members"), &admin_a).await.ok()["items"].as_array().unwrap().is_empty());
    // B's admin cannot reach A's group through B's path.
    app.get(&format!("/api/v1/tenants/{b}/groups/{gid}"), &admin_b).await.assert_error(404, "group_not_found", None);
}
