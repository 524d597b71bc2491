//! Graph permissions as Entra has them (issue 13): admin consent of application permissions,
//! `roles` in app-only tokens, delegated tokens limited by the user's role, accepted audiences,
//! and Graph's error shape and headers. Ends with the Graph authorization matrix.

use crate::helpers::{Res, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

api_tests!(admin_consent_puts_roles_in_app_tokens, app_permissions_decide_what_an_app_may_do, tokens_graph_accepts_and_errors_it_sends, delegated_tokens_are_limited_by_the_users_role, graph_authorization_matrix);

/// A tenant `contoso` with its global admin's session token.
pub struct Contoso {
    pub tid: String,
    pub admin: String,
    pub owner: String,
}

pub async fn contoso(app: &TestApp) -> Contoso {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    Contoso { tid, admin, owner }
}

/// A registered application with a key: (appId, object id, secret).
pub async fn register_app(app: &TestApp, c: &Contoso, name: &str) -> (String, String, String) {
    let a = app.post(&format!("/api/v1/tenants/{}/applications", c.tid), &c.admin, json!({"displayName": name})).await;
    let (app_id, id) = (a.ok()["appId"].as_str().unwrap().to_owned(), a.body["id"].as_str().unwrap().to_owned());
    let k = app.post(&format!("/api/v1/tenants/{}/applications/{id}/keys", c.tid), &c.admin, json!({})).await;
    (app_id, id, k.ok()["secret"].as_str().unwrap().to_owned())
}

/// The token endpoint's reply.
pub async fn token_reply(app: &TestApp, tid: &str, form: &[(&str, &str)]) -> Value {
    let r = app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(form).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// An app-only token for `scope` (Graph by default).
pub async fn app_token(app: &TestApp, tid: &str, app_id: &str, secret: &str, scope: &str) -> String {
    let body = token_reply(app, tid, &[("grant_type", "client_credentials"), ("client_id", app_id), ("client_secret", secret), ("scope", scope)]).await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// An application granted `permissions`, and its app-only Graph token.
pub async fn graph_app(app: &TestApp, c: &Contoso, name: &str, permissions: &[&str]) -> String {
    let (app_id, id, secret) = register_app(app, c, name).await;
    if !permissions.is_empty() {
        app.post(&format!("/api/v1/tenants/{}/applications/{id}/graph-permissions", c.tid), &c.admin, json!({"permissions": permissions})).await.ok();
    }
    app_token(app, &c.tid, &app_id, secret.as_str(), "https://graph.microsoft.com/.default").await
}

/// A delegated Graph token for a user of contoso (password grant), with `scope`.
pub async fn delegated_token(app: &TestApp, c: &Contoso, username: &str, password: &str, scope: &str) -> String {
    let (app_id, _, secret) = register_app(app, c, &format!("Delegated {username} {scope}")).await;
    let body = token_reply(app, &c.tid, &[("grant_type", "password"), ("client_id", &app_id), ("client_secret", &secret), ("username", username), ("password", password), ("scope", scope)]).await;
    body["access_token"].as_str().unwrap().to_owned()
}

pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Asserts a Graph error: status, Graph's code, and the innerError Graph clients read.
#[track_caller]
pub fn assert_graph_error(r: &Res, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
    let inner = &r.body["error"]["innerError"];
    assert!(inner["date"].is_string() && inner["request-id"].is_string() && inner["client-request-id"].is_string(), "{}", r.body);
    assert!(r.headers.get("request-id").is_some(), "{:?}", r.headers);
}

async fn admin_consent_puts_roles_in_app_tokens(app: TestApp) {
    let c = contoso(&app).await;
    let (app_id, id, secret) = register_app(&app, &c, "Directory Sync").await;
    let path = format!("/api/v1/tenants/{}/applications/{id}/graph-permissions", c.tid);
    // No consent yet: the Graph token has no roles claim at all, as in Entra.
    let t = app_token(&app, &c.tid, &app_id, &secret, "https://graph.microsoft.com/.default").await;
    assert!(claims(&t).get("roles").is_none(), "{}", claims(&t));
    // By name and by Microsoft's app role id (Group.ReadWrite.All); repeats are no-ops.
    let r = app.post(&path, &c.admin, json!({"permissions": ["User.Read.All", "62a82d76-70ea-41e2-9197-370581804d09", "user.read.all"]})).await;
    let granted: Vec<&str> = r.ok().as_array().unwrap().iter().map(|g| g["permission"].as_str().unwrap()).collect();
    assert_eq!(granted, ["User.Read.All", "Group.ReadWrite.All"]);
    assert_eq!(r.body[0]["appRoleId"], "df021288-bdef-4463-88db-98f22de89214");
    assert_eq!(r.body[0]["resourceAppId"], "00000003-0000-0000-c000-000000000000");
    app.post(&path, &c.admin, json!({"permissions": ["User.Read.All"]})).await.ok();
    assert_eq!(app.get(&path, &c.admin).await.ok().as_array().unwrap().len(), 2);
    // Concurrent grants of one permission: every call succeeds, it is held once, recorded once.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (client, url, token) = (app.client.clone(), format!("{}{path}", app.base), c.admin.clone());
        set.spawn(async move { client.post(url).bearer_auth(token).json(&json!({"permissions": ["Directory.Read.All"]})).send().await.unwrap().status().as_u16() });
    }
    assert_eq!(set.join_all().await, vec![200; 6]);
    let held = app.get(&path, &c.admin).await;
    assert_eq!(held.ok().as_array().unwrap().iter().filter(|g| g["permission"] == "Directory.Read.All").count(), 1, "{}", held.body);
    let audit = app.audit_actions(&c.admin, &c.tid).await;
    assert_eq!(audit.iter().filter(|a| *a == "application.graph_permission.grant").count(), 3, "{audit:?}");
    assert_eq!(app.delete(&format!("{path}/Directory.Read.All"), &c.admin).await.status, 204);
    // Graph tokens carry them; tokens for other resources do not.
    let t = app_token(&app, &c.tid, &app_id, &secret, "https://graph.microsoft.com/.default").await;
    let cl = claims(&t);
    assert_eq!(cl["roles"], json!(["User.Read.All", "Group.ReadWrite.All"]), "{cl}");
    assert_eq!((cl["aud"].as_str(), cl["ver"].as_str(), cl["idtyp"].as_str()), (Some("https://graph.microsoft.com"), Some("1.0"), Some("app")));
    // Unknown permissions are refused by name; an empty list too.
    app.post(&path, &c.admin, json!({"permissions": ["User.Read.All", "Mail.Send"]})).await.assert_error(400, "invalid_request", Some("permissions[1]"));
    app.post(&path, &c.admin, json!({"permissions": []})).await.assert_error(400, "missing_field", Some("permissions"));
    // Only a global administrator consents: a plain user of the tenant may look, not grant.
    app.create_user(&c.admin, &c.tid, "frank").await;
    let frank = app.token("contoso.onatrium.local", "frank", "Us3r-Passw0rd!").await;
    assert_eq!(app.get(&path, &frank).await.ok().as_array().unwrap().len(), 2);
    app.post(&path, &frank, json!({"permissions": ["Directory.ReadWrite.All"]})).await.assert_error(403, "forbidden", None);
    // Revoking: by name; a permission it does not hold is a 404.
    assert_eq!(app.delete(&format!("{path}/Group.ReadWrite.All"), &c.admin).await.status, 204);
    app.delete(&format!("{path}/Group.ReadWrite.All"), &c.admin).await.assert_error(404, "not_found", Some("permission"));
    let t = app_token(&app, &c.tid, &app_id, &secret, "https://graph.microsoft.com/.default").await;
    assert_eq!(claims(&t)["roles"], json!(["User.Read.All"]));
    let audit = app.audit_actions(&c.admin, &c.tid).await;
    assert!(audit.iter().any(|a| a == "application.graph_permission.grant") && audit.iter().any(|a| a == "application.graph_permission.revoke"), "{audit:?}");
    // The grant goes with its application.
    app.delete(&format!("/api/v1/tenants/{}/applications/{id}", c.tid), &c.admin).await;
    app.get(&path, &c.admin).await.assert_error(404, "application_not_found", None);
}

async fn app_permissions_decide_what_an_app_may_do(app: TestApp) {
    let c = contoso(&app).await;
    let none = graph_app(&app, &c, "No roles", &[]).await;
    let reader = graph_app(&app, &c, "Reader", &["User.Read.All"]).await;
    let writer = graph_app(&app, &c, "Writer", &["User.ReadWrite.All", "Group.ReadWrite.All"]).await;
    let new_user = json!({"accountEnabled": true, "displayName": "Adele Vance", "mailNickname": "adele", "userPrincipalName": "adele@contoso.onatrium.local",
                          "passwordProfile": {"password": "Us3r-Passw0rd!", "forceChangePasswordNextSignIn": false}});
    // Without roles: 403 Authorization_RequestDenied, for reads and writes.
    let r = app.get("/v1.0/users", &none).await;
    assert_graph_error(&r, 403, "Authorization_RequestDenied");
    assert_eq!(r.body["error"]["message"], "Insufficient privileges to complete the operation.");
    assert_graph_error(&app.post("/v1.0/users", &none, new_user.clone()).await, 403, "Authorization_RequestDenied");
    // User.Read.All reads users but writes nothing, and reads no groups.
    assert!(app.get("/v1.0/users", &reader).await.ok()["value"].as_array().unwrap().iter().any(|u| u["userPrincipalName"] == "admin@contoso.onatrium.local"));
    assert_graph_error(&app.post("/v1.0/users", &reader, new_user.clone()).await, 403, "Authorization_RequestDenied");
    assert_graph_error(&app.get("/v1.0/groups", &reader).await, 403, "Authorization_RequestDenied");
    // User.ReadWrite.All writes.
    let created = app.post("/v1.0/users", &writer, new_user.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_graph_error(&app.delete(&format!("/v1.0/users/{id}"), &reader).await, 403, "Authorization_RequestDenied");
    // An application may not change or delete a global administrator (Entra asks for a
    // privileged role that Graph permissions do not give).
    let admin_id = app.get("/v1.0/users/admin@contoso.onatrium.local", &reader).await.ok()["id"].as_str().unwrap().to_owned();
    assert_graph_error(&app.delete(&format!("/v1.0/users/{admin_id}"), &writer).await, 403, "Authorization_RequestDenied");
    assert_graph_error(&app.patch(&format!("/v1.0/users/{admin_id}"), &writer, json!({"accountEnabled": false})).await, 403, "Authorization_RequestDenied");
    // App-only tokens have no /me.
    assert_graph_error(&app.get("/v1.0/me", &writer).await, 400, "Request_BadRequest");
    // Revoking takes effect at once, even for a token issued before.
    let (w_app_id, w_id, w_secret) = register_app(&app, &c, "Short-lived").await;
    let path = format!("/api/v1/tenants/{}/applications/{w_id}/graph-permissions", c.tid);
    app.post(&path, &c.admin, json!({"permissions": ["User.Read.All"]})).await.ok();
    let t = app_token(&app, &c.tid, &w_app_id, &w_secret, "https://graph.microsoft.com/.default").await;
    app.get("/v1.0/users", &t).await.ok();
    app.delete(&format!("{path}/User.Read.All"), &c.admin).await;
    assert_graph_error(&app.get("/v1.0/users", &t).await, 403, "Authorization_RequestDenied");
    // A grant after the token was issued is not in its roles: a new token is needed, as in Entra.
    app.post(&path, &c.admin, json!({"permissions": ["Group.Read.All"]})).await.ok();
    assert_graph_error(&app.get("/v1.0/groups", &t).await, 403, "Authorization_RequestDenied");
    let t = app_token(&app, &c.tid, &w_app_id, &w_secret, "https://graph.microsoft.com/.default").await;
    app.get("/v1.0/groups", &t).await.ok();
    // Graph application tokens do not open the REST API, and REST's rules still hold there.
    assert_eq!(app.get(&format!("/api/v1/tenants/{}/users", c.tid), &writer).await.status, 401);
}

async fn tokens_graph_accepts_and_errors_it_sends(app: TestApp) {
    let c = contoso(&app).await;
    let (app_id, id, secret) = register_app(&app, &c, "Audiences").await;
    app.post(&format!("/api/v1/tenants/{}/applications/{id}/graph-permissions", c.tid), &c.admin, json!({"permissions": ["User.Read.All"]})).await.ok();
    // Graph's resource URI, Graph's appId, and this server's own base URL (the Graph resource id
    // the ARM metadata hands to the Azure CLI) are all Graph.
    for scope in ["https://graph.microsoft.com/.default", "00000003-0000-0000-c000-000000000000/.default", &format!("{}/.default", app.base)] {
        let t = app_token(&app, &c.tid, &app_id, &secret, scope).await;
        assert_eq!(claims(&t)["roles"], json!(["User.Read.All"]), "{scope}");
        let r = app.get("/v1.0/users", &t).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.body);
    }
    // A token for another audience is refused with Graph's 401 and its WWW-Authenticate.
    let api = register_app(&app, &c, "Some API").await;
    app.patch(&format!("/api/v1/tenants/{}/applications/{}", c.tid, api.1), &c.admin, json!({"appIdUri": "api://some-api"})).await.ok();
    let other = app_token(&app, &c.tid, &app_id, &secret, "api://some-api/.default").await;
    let r = app.get("/v1.0/users", &other).await;
    assert_graph_error(&r, 401, "InvalidAuthenticationToken");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("Invalid audience"), "{}", r.body);
    let www = r.headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(www.starts_with("Bearer realm=\"\", authorization_uri=\"") && www.ends_with("client_id=\"00000003-0000-0000-c000-000000000000\""), "{www}");
    // No token; a forged one; an expired one.
    let r = app.request(Method::GET, "/v1.0/users", None, None).await;
    assert_graph_error(&r, 401, "InvalidAuthenticationToken");
    assert_eq!(r.body["error"]["message"], "Access token is empty.");
    let good = app_token(&app, &c.tid, &app_id, &secret, "https://graph.microsoft.com/.default").await;
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_graph_error(&app.get("/v1.0/users", &parts.join(".")).await, 401, "InvalidAuthenticationToken");
    app.clock.advance_seconds(3600);
    assert_graph_error(&app.get("/v1.0/users", &good).await, 401, "InvalidAuthenticationToken");
    app.clock.advance_seconds(-3600);
    // The request id and the client's own id come back, in headers and in innerError.
    let r = app.client.get(format!("{}/v1.0/users/nobody@contoso.onatrium.local", app.base)).bearer_auth(&good).header("client-request-id", "abc-123").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let rid = r.headers()["request-id"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["client-request-id"], "abc-123");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json;odata.metadata=minimal"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
    assert_eq!((body["error"]["innerError"]["request-id"].as_str(), body["error"]["innerError"]["client-request-id"].as_str()), (Some(rid.as_str()), Some("abc-123")));
    // Unknown Graph paths answer in Graph's shape too.
    let r = app.get("/v1.0/nothingHere", &good).await;
    assert_graph_error(&r, 400, "Request_BadRequest");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("nothingHere"));
}

async fn delegated_tokens_are_limited_by_the_users_role(app: TestApp) {
    let c = contoso(&app).await;
    app.create_user(&c.admin, &c.tid, "frank").await;
    let new_user = |alias: &str| {
        json!({"accountEnabled": true, "displayName": alias, "mailNickname": alias, "userPrincipalName": format!("{alias}@contoso.onatrium.local"),
               "passwordProfile": {"password": "Us3r-Passw0rd!"}})
    };
    // A global administrator with a write scope writes.
    let admin_rw = delegated_token(&app, &c, "admin", "Adm1n-Passw0rd!", "https://graph.microsoft.com/User.ReadWrite.All").await;
    assert_eq!(claims(&admin_rw)["scp"], "User.ReadWrite.All");
    assert_eq!(app.post("/v1.0/users", &admin_rw, new_user("gina")).await.status, 201);
    // The same administrator with only User.Read: its own profile, not the directory.
    let admin_me = delegated_token(&app, &c, "admin", "Adm1n-Passw0rd!", "User.Read").await;
    assert_eq!(app.get("/v1.0/me", &admin_me).await.ok()["userPrincipalName"], "admin@contoso.onatrium.local");
    assert_graph_error(&app.get("/v1.0/users", &admin_me).await, 403, "Authorization_RequestDenied");
    assert_graph_error(&app.post("/v1.0/users", &admin_me, new_user("hal")).await, 403, "Authorization_RequestDenied");
    // A plain user with the broadest scope still may only read: the intersection with the role.
    let frank = delegated_token(&app, &c, "frank", "Us3r-Passw0rd!", "https://graph.microsoft.com/.default").await;
    assert_eq!(app.get("/v1.0/me", &frank).await.ok()["userPrincipalName"], "frank@contoso.onatrium.local");
    assert!(app.get("/v1.0/users", &frank).await.ok()["value"].as_array().unwrap().len() >= 3);
    app.get("/v1.0/groups", &frank).await.ok();
    assert_graph_error(&app.post("/v1.0/users", &frank, new_user("ivy")).await, 403, "Authorization_RequestDenied");
    assert_graph_error(&app.post("/v1.0/groups", &frank, json!({"displayName": "X", "mailEnabled": false, "mailNickname": "x", "securityEnabled": true})).await, 403, "Authorization_RequestDenied");
    // A disabled user's token stops working.
    let frank_id = app.get("/v1.0/users/frank@contoso.onatrium.local", &admin_rw).await.ok()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.patch(&format!("/v1.0/users/{frank_id}"), &admin_rw, json!({"accountEnabled": false})).await.status, 204);
    assert_graph_error(&app.get("/v1.0/me", &frank).await, 401, "InvalidAuthenticationToken");
}

/// Graph endpoints × callers: a global administrator's session, a plain user's session,
/// app-only tokens without roles, with User.Read.All + Group.Read.All, with the ReadWrite
/// permissions, and anonymous; and an app with GroupMember.ReadWrite.All. Cells: the status.
async fn graph_authorization_matrix(app: TestApp) {
    let c = contoso(&app).await;
    app.create_user(&c.admin, &c.tid, "frank").await;
    let frank = app.token("contoso.onatrium.local", "frank", "Us3r-Passw0rd!").await;
    let none = graph_app(&app, &c, "None", &[]).await;
    let read = graph_app(&app, &c, "Read", &["User.Read.All", "Group.Read.All"]).await;
    let write = graph_app(&app, &c, "Write", &["User.ReadWrite.All", "Group.ReadWrite.All", "User.Invite.All"]).await;
    let members = graph_app(&app, &c, "Members", &["GroupMember.ReadWrite.All"]).await;
    let callers: [(&str, Option<&str>); 6] =
        [("admin session", Some(&c.admin)), ("user session", Some(&frank)), ("app, no roles", Some(&none)), ("app, read", Some(&read)), ("app, write", Some(&write)), ("anonymous", None)];
    let member_app_col = Some(members.as_str());
    // (method, path, body, expected per caller, expected for the GroupMember.ReadWrite.All app)
    type Row = (Method, &'static str, Option<Value>, [u16; 6], u16);
    let rows: Vec<Row> = vec![
        (Method::GET, "/v1.0/users", None, [200, 200, 403, 200, 200, 401], 403),
        (Method::POST, "/v1.0/users", Some(json!({"accountEnabled": true, "displayName": "U {n}", "mailNickname": "u{n}", "userPrincipalName": "u{n}@contoso.onatrium.local", "passwordProfile": {"password": "Us3r-Passw0rd!"}})),
         [201, 403, 403, 403, 201, 401], 403),
        (Method::GET, "/v1.0/users/{user}", None, [200, 200, 403, 200, 200, 401], 403),
        (Method::PATCH, "/v1.0/users/{user}", Some(json!({"displayName": "Renamed {n}"})), [204, 403, 403, 403, 204, 401], 403),
        (Method::GET, "/v1.0/users/{user}/memberOf", None, [200, 200, 403, 200, 200, 401], 403),
        (Method::DELETE, "/v1.0/users/{user}", None, [204, 403, 403, 403, 204, 401], 403),
        (Method::GET, "/v1.0/me", None, [200, 200, 400, 400, 400, 401], 400),
        (Method::GET, "/v1.0/groups", None, [200, 200, 403, 200, 200, 401], 200),
        (Method::POST, "/v1.0/groups", Some(json!({"displayName": "G {n}", "mailEnabled": false, "mailNickname": "g{n}", "securityEnabled": true})), [201, 403, 403, 403, 201, 401], 403),
        (Method::GET, "/v1.0/groups/{group}", None, [200, 200, 403, 200, 200, 401], 200),
        (Method::PATCH, "/v1.0/groups/{group}", Some(json!({"description": "d {n}"})), [204, 403, 403, 403, 204, 401], 403),
        (Method::GET, "/v1.0/groups/{group}/members", None, [200, 200, 403, 200, 200, 401], 200),
        (Method::POST, "/v1.0/groups/{group}/members/$ref", Some(json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{user}"})), [204, 403, 403, 403, 204, 401], 204),
        (Method::DELETE, "/v1.0/groups/{group}/members/{member}/$ref", None, [204, 403, 403, 403, 204, 401], 204),
        (Method::DELETE, "/v1.0/groups/{group}", None, [204, 403, 403, 403, 204, 401], 403),
        (Method::GET, "/v1.0/organization", None, [200, 200, 403, 200, 200, 401], 403),
        (Method::GET, "/v1.0/domains", None, [200, 200, 403, 200, 200, 401], 403),
        // An app that may read groups but not users does not see users here: not found.
        (Method::GET, "/v1.0/directoryObjects/{user}", None, [200, 200, 403, 200, 200, 401], 404),
        (Method::POST, "/v1.0/invitations", Some(json!({"invitedUserEmailAddress": "g{n}@example.com", "inviteRedirectUrl": "https://myapp.example.com"})), [201, 403, 403, 403, 201, 401], 403),
        // Sign-in logs: AuditLog.Read.All only (none of these apps has it), or a global administrator.
        (Method::GET, "/v1.0/auditLogs/signIns", None, [200, 403, 403, 403, 403, 401], 403),
        (Method::GET, "/v1.0/auditLogs/signIns/{user}", None, [404, 403, 403, 403, 403, 401], 403),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    // Reads share one user, group and member; each write gets fresh objects, so cells do not
    // depend on each other.
    let objects = |n: usize| {
        let (app, c) = (&app, &c);
        async move {
            let user = app.create_user(&c.admin, &c.tid, &format!("cell{n}")).await["id"].as_str().unwrap().to_owned();
            let group = app.post(&format!("/api/v1/tenants/{}/groups", c.tid), &c.admin, json!({"displayName": format!("Cell {n}")})).await.ok()["id"].as_str().unwrap().to_owned();
            let member = app.create_user(&c.admin, &c.tid, &format!("mem{n}")).await["id"].as_str().unwrap().to_owned();
            app.post(&format!("/api/v1/tenants/{}/groups/{group}/members", c.tid), &c.admin, json!({"userId": member})).await.ok();
            (user, group, member)
        }
    };
    let shared = objects(0).await;
    for (method, path, body, expect, member_expect) in rows {
        let cols = callers.iter().map(|(name, t)| (*name, *t)).chain([("app, GroupMember.ReadWrite.All", member_app_col)]);
        let uses_objects = path.contains("{user}") || path.contains("{group}") || body.as_ref().is_some_and(|b| b.to_string().contains("{user}"));
        for (i, (name, token)) in cols.enumerate() {
            n += 1;
            let (user, group, member) = if method != Method::GET && uses_objects { objects(n).await } else { shared.clone() };
            let fill = |s: &str| s.replace("{n}", &n.to_string()).replace("{user}", &user).replace("{group}", &group).replace("{member}", &member);
            let body = body.as_ref().map(|b| serde_json::from_str(&fill(&b.to_string())).unwrap());
            let r = app.request(method.clone(), &fill(path), token, body).await;
            let want = if i < 6 { expect[i] } else { member_expect };
            if r.status.as_u16() != want {
                failures.push(format!("{method} {path} as {name}: {} (want {want}) {}", r.status, r.body));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} cells differ:\n{}", failures.len(), failures.join("\n"));
}
