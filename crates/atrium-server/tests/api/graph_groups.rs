//! Graph `/v1.0/groups` and members (issue 13), and the tenant's `organization`, `domains`
//! and `directoryObjects`.

use crate::graph_permissions::{assert_graph_error, contoso, graph_app};
use crate::helpers::TestApp;
use serde_json::{Value, json};

api_tests!(graph_group_lifecycle_and_members, graph_organization_domains_and_directory_objects);

fn new_group(name: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.group", "displayName": name, "mailEnabled": false, "mailNickname": name.replace(' ', ""), "securityEnabled": true,
           "description": format!("{name} team")})
}

/// The SDKs write Graph's own host; Atrium reads the id.
fn reference(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

async fn graph_group_lifecycle_and_members(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Groups", &["User.ReadWrite.All", "Group.ReadWrite.All"]).await;
    let r = app.post("/v1.0/groups", &t, new_group("Sales Team")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["@odata.context"], format!("{}/v1.0/$metadata#groups/$entity", app.base));
    assert_eq!((r.body["securityEnabled"].as_bool(), r.body["mailEnabled"].as_bool(), r.body["groupTypes"].clone()), (Some(true), Some(false), json!([])));
    let gid = r.body["id"].as_str().unwrap().to_owned();
    // Only security groups; required properties named.
    let mut m365 = new_group("M365");
    m365["groupTypes"] = json!(["Unified"]);
    assert_eq!(app.post("/v1.0/groups", &t, m365).await.body["error"]["target"], "groupTypes");
    let mut mail = new_group("Mail");
    mail["mailEnabled"] = json!(true);
    assert_eq!(app.post("/v1.0/groups", &t, mail).await.body["error"]["target"], "mailEnabled");
    let r = app.post("/v1.0/groups", &t, json!({"displayName": "X", "mailEnabled": false, "securityEnabled": true})).await;
    assert_eq!((r.status.as_u16(), r.body["error"]["target"].as_str()), (400, Some("mailNickname")));
    // Get, list with $filter, PATCH, read-your-writes.
    assert_eq!(app.get(&format!("/v1.0/groups/{gid}"), &t).await.ok()["description"], "Sales Team team");
    let r = app.get("/v1.0/groups?$filter=startswith(displayName,'sales')&$select=id,displayName", &t).await;
    assert_eq!(r.ok()["value"], json!([{"id": gid, "displayName": "Sales Team"}]));
    assert_eq!(app.patch(&format!("/v1.0/groups/{gid}"), &t, json!({"displayName": "Sales", "description": null})).await.status, 204);
    let g = app.get(&format!("/v1.0/groups/{gid}"), &t).await;
    assert_eq!((g.ok()["displayName"].as_str(), g.body["description"].as_str()), (Some("Sales"), None));
    // The same group REST sees.
    assert_eq!(app.get(&format!("/api/v1/tenants/{}/groups/{gid}", c.tid), &c.admin).await.ok()["displayName"], "Sales");
    // Members: add by reference, list typed, duplicates in Graph's words, remove.
    let mut users = Vec::new();
    for alias in ["ann", "ben", "cat"] {
        users.push(app.create_user(&c.admin, &c.tid, alias).await["id"].as_str().unwrap().to_owned());
    }
    for u in &users {
        let r = app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, reference(u)).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let r = app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, reference(&users[0])).await;
    assert_graph_error(&r, 400, "Request_BadRequest");
    assert_eq!(r.body["error"]["message"], "One or more added object references already exist for the following modified properties: 'members'.");
    assert_graph_error(&app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, reference(&uuid_of(7))).await, 404, "Request_ResourceNotFound");
    assert_graph_error(&app.post(&format!("/v1.0/groups/{gid}/members/$ref"), &t, json!({"@odata.id": "not a reference"})).await, 400, "Request_BadRequest");
    let r = app.get(&format!("/v1.0/groups/{gid}/members"), &t).await;
    assert_eq!(r.ok()["value"].as_array().unwrap().len(), 3);
    assert!(r.body["value"].as_array().unwrap().iter().all(|m| m["@odata.type"] == "#microsoft.graph.user"));
    assert_eq!(r.body["@odata.context"], format!("{}/v1.0/$metadata#directoryObjects", app.base));
    // Paged with $top and nextLink; transitiveMembers are the members (groups do not nest).
    let first = app.get(&format!("/v1.0/groups/{gid}/transitiveMembers?$top=2&$select=id"), &t).await;
    assert_eq!(first.ok()["value"].as_array().unwrap().len(), 2);
    let next = first.body["@odata.nextLink"].as_str().unwrap().to_owned();
    let rest: Value = app.client.get(&next).bearer_auth(&t).send().await.unwrap().json().await.unwrap();
    assert_eq!(rest["value"].as_array().unwrap().len(), 1);
    assert!(rest.get("@odata.nextLink").is_none());
    assert_eq!(app.delete(&format!("/v1.0/groups/{gid}/members/{}/$ref", users[1]), &t).await.status, 204);
    assert_graph_error(&app.delete(&format!("/v1.0/groups/{gid}/members/{}/$ref", users[1]), &t).await, 404, "Request_ResourceNotFound");
    let ids: Vec<String> = app.get(&format!("/v1.0/groups/{gid}/members"), &t).await.ok()["value"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.contains(&users[0]) && !ids.contains(&users[1]), "{ids:?}");
    // Created with members bound, as the SDKs do.
    let mut bound = new_group("Bound");
    bound["members@odata.bind"] = json!([format!("https://graph.microsoft.com/v1.0/users/{}", users[2])]);
    let b = app.post("/v1.0/groups", &t, bound).await;
    let bid = b.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/v1.0/groups/{bid}/members"), &t).await.ok()["value"][0]["id"], users[2].as_str());
    // No owners in Atrium's groups yet: an empty list.
    assert_eq!(app.get(&format!("/v1.0/groups/{gid}/owners"), &t).await.ok()["value"], json!([]));
    // Delete: 204, then 404; the members stay in the directory.
    assert_eq!(app.delete(&format!("/v1.0/groups/{gid}"), &t).await.status, 204);
    assert_graph_error(&app.get(&format!("/v1.0/groups/{gid}"), &t).await, 404, "Request_ResourceNotFound");
    assert_graph_error(&app.get("/v1.0/groups/not-a-guid", &t).await, 404, "Request_ResourceNotFound");
    assert_eq!(app.get(&format!("/v1.0/users/{}", users[0]), &t).await.status, 200);
    let audit = app.audit_actions(&c.admin, &c.tid).await;
    assert!(["group.create", "group.member.add", "group.member.remove", "group.delete"].iter().all(|a| audit.iter().any(|x| x == a)), "{audit:?}");
}

fn uuid_of(n: u128) -> String {
    uuid::Uuid::from_u128(n).to_string()
}

async fn graph_organization_domains_and_directory_objects(app: TestApp) {
    let c = contoso(&app).await;
    let t = graph_app(&app, &c, "Reader", &["User.Read.All", "Group.Read.All"]).await;
    let org = app.get("/v1.0/organization", &t).await;
    let o = &org.ok()["value"][0];
    assert_eq!((o["id"].as_str(), o["displayName"].as_str()), (Some(c.tid.as_str()), Some("Tenant contoso")));
    assert_eq!(o["verifiedDomains"][0]["name"], "contoso.onatrium.local");
    assert_eq!(app.get(&format!("/v1.0/organization/{}", c.tid), &t).await.ok()["id"], c.tid.as_str());
    let d = app.get("/v1.0/domains", &t).await;
    assert_eq!(d.ok()["value"][0], json!({"id": "contoso.onatrium.local", "authenticationType": "Managed", "isAdminManaged": true, "isDefault": true,
                                          "isInitial": true, "isRoot": true, "isVerified": true, "supportedServices": ["Email", "OfficeCommunicationsOnline"]}));
    assert_eq!(app.get("/v1.0/domains/contoso.onatrium.local", &t).await.ok()["isDefault"], true);
    assert_graph_error(&app.get("/v1.0/domains/fabrikam.com", &t).await, 404, "Request_ResourceNotFound");
    assert_graph_error(&app.get("/v1.0/organization?$top=1", &t).await, 400, "Request_UnsupportedQuery");
    // directoryObjects: users and groups by id, typed.
    let user = app.create_user(&c.admin, &c.tid, "dora").await["id"].as_str().unwrap().to_owned();
    let group = app.post(&format!("/api/v1/tenants/{}/groups", c.tid), &c.admin, json!({"displayName": "Ops"})).await.ok()["id"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/v1.0/directoryObjects/{user}"), &t).await;
    assert_eq!((r.ok()["@odata.type"].as_str(), r.body["userPrincipalName"].as_str()), (Some("#microsoft.graph.user"), Some("dora@contoso.onatrium.local")));
    assert_eq!(app.get(&format!("/v1.0/directoryObjects/{group}"), &t).await.ok()["@odata.type"], "#microsoft.graph.group");
    assert_graph_error(&app.get(&format!("/v1.0/directoryObjects/{}", uuid_of(9)), &t).await, 404, "Request_ResourceNotFound");
    let r = app.post("/v1.0/directoryObjects/getByIds", &t, json!({"ids": [group, uuid_of(9), user], "types": ["user", "group"]})).await;
    let got: Vec<&str> = r.ok()["value"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(got, [group.as_str(), user.as_str()]);
    let r = app.post("/v1.0/directoryObjects/getByIds", &t, json!({"ids": [group, user], "types": ["group"]})).await;
    assert_eq!(r.ok()["value"].as_array().unwrap().len(), 1);
    assert_eq!(app.post("/v1.0/directoryObjects/getByIds", &t, json!({"ids": ["x"]})).await.body["error"]["target"], "ids[0]");
    // An app that may read only users does not see groups through directoryObjects.
    let users_only = graph_app(&app, &c, "Users only", &["User.Read.All"]).await;
    assert_graph_error(&app.get(&format!("/v1.0/directoryObjects/{group}"), &users_only).await, 404, "Request_ResourceNotFound");
}
