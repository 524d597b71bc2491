//! Graph `/v1.0/auditLogs/signIns` (issue 16): the tenant's sign-in logs in Graph's signIn
//! shape, for apps granted AuditLog.Read.All and the tenant's global administrators; `$filter`
//! limited to what the sign-in filter expresses, `$top` and `@odata.nextLink`.

use crate::graph_permissions::{assert_graph_error, contoso, delegated_token, graph_app};
use crate::helpers::TestApp;
use serde_json::Value;

api_tests!(graph_lists_filters_and_pages_a_tenants_sign_ins, graph_sign_ins_need_audit_log_read_all_and_refuse_other_filters);

/// The `value` of `path` once it holds at least `n` entries: sign-ins are written moments
/// after the attempt.
async fn graph_sign_ins(app: &TestApp, token: &str, path: &str, n: usize) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        let r = app.get(path, token).await;
        body = r.ok().clone();
        if body["value"].as_array().unwrap().len() >= n {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected at least {n} sign-ins at {path}, got {body:#}");
}

fn values(body: &Value) -> &Vec<Value> {
    body["value"].as_array().unwrap()
}

async fn graph_lists_filters_and_pages_a_tenants_sign_ins(app: TestApp) {
    let c = contoso(&app).await;
    let adele = app.create_user(&c.admin, &c.tid, "adele").await;
    let adele_id = adele["id"].as_str().unwrap().to_owned();
    assert_eq!(app.sign_in("contoso.onatrium.local", "adele", "nope-Passw0rd!").await.status, 401);
    app.token("contoso.onatrium.local", "adele", "Us3r-Passw0rd!").await;
    // Another tenant signs in too: its entries never show in contoso's Graph.
    let (fabrikam, fabrikam_admin) = app.tenant_with_admin(&c.owner, "fabrikam").await;
    assert_eq!(app.sign_in("fabrikam.onatrium.local", "admin", "nope-Passw0rd!").await.status, 401);
    let t = graph_app(&app, &c, "Auditor", &["AuditLog.Read.All"]).await;

    // The admin's sign-in, adele's failure and success, the auditor's client credentials.
    let body = graph_sign_ins(&app, &t, "/v1.0/auditLogs/signIns", 4).await;
    assert_eq!(body["@odata.context"], format!("{}/v1.0/$metadata#auditLogs/signIns", app.base));
    assert!(body.get("@odata.nextLink").is_none(), "{body}");
    let all = values(&body).clone();
    assert!(all.iter().all(|e| e["tenantId"] == c.tid.as_str()), "only the caller's tenant: {all:#?}");
    let times: Vec<&str> = all.iter().map(|e| e["createdDateTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let failed = all.iter().find(|e| e["userId"] == adele_id.as_str() && e["status"]["errorCode"] != 0).unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!(failed["status"]["errorCode"], 50126);
    assert!(failed["status"]["failureReason"].as_str().is_some_and(|r| !r.is_empty()), "{failed}");
    assert!(failed["status"].as_object().unwrap().contains_key("additionalDetails"), "{failed}");
    let ok = all.iter().find(|e| e["userId"] == adele_id.as_str() && e["status"]["errorCode"] == 0).unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!(ok["userPrincipalName"], "adele@contoso.onatrium.local");
    assert_eq!(ok["appDisplayName"], "Atrium");
    assert_eq!(ok["isInteractive"], true);
    for key in ["id", "createdDateTime", "userDisplayName", "clientAppUsed", "correlationId", "ipAddress"] {
        assert!(ok.as_object().unwrap().contains_key(key), "{key} in {ok}");
    }
    let app_sign_in = all.iter().find(|e| e["isInteractive"] == false && e["appId"].is_string()).unwrap_or_else(|| panic!("{all:#?}"));

    // One by id; another tenant's or an unknown id is Graph's 404.
    let id = ok["id"].as_str().unwrap();
    let one = app.get(&format!("/v1.0/auditLogs/signIns/{id}"), &t).await;
    assert_eq!(one.ok()["@odata.context"], format!("{}/v1.0/$metadata#auditLogs/signIns/$entity", app.base));
    let mut without_context = one.body.clone();
    without_context.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(&without_context, ok);
    let theirs = app.get("/api/v1/sign-ins", &fabrikam_admin).await;
    let theirs = theirs.ok()["items"].as_array().unwrap();
    assert!(!theirs.is_empty() && theirs.iter().all(|e| e["tenantId"] == fabrikam.as_str()));
    let their_id = theirs[0]["id"].as_str().unwrap();
    assert!(all.iter().all(|e| e["id"] != their_id));
    assert_graph_error(&app.get(&format!("/v1.0/auditLogs/signIns/{their_id}"), &t).await, 404, "Request_ResourceNotFound");
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns/6a4f3b0e-1c1f-4a9e-9a51-000000000000", &t).await, 404, "Request_ResourceNotFound");
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns/nope", &t).await, 404, "Request_ResourceNotFound");

    // Filters.
    let by_user = app.get(&format!("/v1.0/auditLogs/signIns?$filter=userId eq '{adele_id}'"), &t).await;
    let by_user = values(by_user.ok());
    assert_eq!(by_user.len(), 2, "{by_user:#?}");
    assert!(by_user.iter().all(|e| e["userId"] == adele_id.as_str()));
    let succeeded = app.get(&format!("/v1.0/auditLogs/signIns?$filter=userId eq '{adele_id}' and status/errorCode eq 0"), &t).await;
    assert_eq!(values(succeeded.ok()).len(), 1);
    assert_eq!(values(&succeeded.body)[0]["id"], ok["id"]);
    let successes = app.get("/v1.0/auditLogs/signIns?$filter=status/errorCode eq 0", &t).await;
    assert!(values(successes.ok()).iter().all(|e| e["status"]["errorCode"] == 0) && values(&successes.body).len() == all.len() - 1);
    let failures = app.get("/v1.0/auditLogs/signIns?$filter=status/errorCode ne 0", &t).await;
    assert_eq!(values(failures.ok()), &vec![failed.clone()]);
    let app_id = app_sign_in["appId"].as_str().unwrap();
    let by_app = app.get(&format!("/v1.0/auditLogs/signIns?$filter=appId eq '{app_id}'"), &t).await;
    assert!(!values(by_app.ok()).is_empty() && values(&by_app.body).iter().all(|e| e["appId"] == app_id));
    let first = times.last().unwrap();
    let newest = times.first().unwrap();
    let window = app.get(&format!("/v1.0/auditLogs/signIns?$filter=createdDateTime ge {first} and createdDateTime le {newest}"), &t).await;
    assert_eq!(values(window.ok()).len(), all.len(), "both bounds include their instant");
    let future = app.get("/v1.0/auditLogs/signIns?$filter=createdDateTime ge 2999-01-01T00:00:00Z", &t).await;
    assert!(values(future.ok()).is_empty());

    // Paging: follow @odata.nextLink until it is absent; every entry once, newest first.
    let mut next = Some(format!("{}/v1.0/auditLogs/signIns?$top=1", app.base));
    let mut seen = Vec::new();
    while let Some(url) = next {
        let r = app.client.get(&url).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        assert_eq!(values(&page).len(), 1, "{page}");
        seen.push(values(&page)[0]["id"].as_str().unwrap().to_owned());
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(n) = &next {
            assert!(n.starts_with(&format!("{}/v1.0/auditLogs/signIns?", app.base)) && n.contains("%24top=1") && n.contains("%24skiptoken="), "{n}");
        }
        if seen.len() > 50 {
            panic!("nextLink does not end: {seen:?}");
        }
    }
    // Graph calls are not sign-ins: the pages hold exactly the entries listed above.
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(seen, ids);
    assert_eq!(values(app.get("/v1.0/auditLogs/signIns?$top=1000", &t).await.ok()).len(), all.len());
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns?$top=0", &t).await, 400, "Request_UnsupportedQuery");
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns?$top=1001", &t).await, 400, "Request_UnsupportedQuery");
    assert_eq!(app.get("/v1.0/auditLogs/signIns?$skiptoken=%%%", &t).await.status, 400);
}

async fn graph_sign_ins_need_audit_log_read_all_and_refuse_other_filters(app: TestApp) {
    let c = contoso(&app).await;
    app.create_user(&c.admin, &c.tid, "frank").await;
    let frank = app.token("contoso.onatrium.local", "frank", "Us3r-Passw0rd!").await;
    let none = graph_app(&app, &c, "Nothing", &[]).await;
    // Directory.Read.All reads the directory, not its audit logs.
    let directory = graph_app(&app, &c, "Directory reader", &["Directory.Read.All", "User.ReadWrite.All"]).await;
    let auditor = graph_app(&app, &c, "Auditor", &["AuditLog.Read.All"]).await;
    let some_id = "6a4f3b0e-1c1f-4a9e-9a51-000000000000";
    for (who, token) in [("no permission", &none), ("Directory.Read.All", &directory), ("a plain user's session", &frank)] {
        for path in ["/v1.0/auditLogs/signIns".to_owned(), format!("/v1.0/auditLogs/signIns/{some_id}")] {
            let r = app.get(&path, token).await;
            assert_eq!(r.status, 403, "{who} at {path}: {}", r.body);
            assert_graph_error(&r, 403, "Authorization_RequestDenied");
        }
    }
    // Sessions keep the REST API's rule: the tenant's global administrator reads them.
    graph_sign_ins(&app, &c.admin, "/v1.0/auditLogs/signIns", 1).await;
    // Delegated: the scope and a global administrator's role.
    let admin_audit = delegated_token(&app, &c, "admin", "Adm1n-Passw0rd!", "https://graph.microsoft.com/AuditLog.Read.All").await;
    assert_eq!(app.get("/v1.0/auditLogs/signIns", &admin_audit).await.status, 200);
    let admin_users = delegated_token(&app, &c, "admin", "Adm1n-Passw0rd!", "https://graph.microsoft.com/User.Read.All").await;
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns", &admin_users).await, 403, "Authorization_RequestDenied");
    let frank_audit = delegated_token(&app, &c, "frank", "Us3r-Passw0rd!", "https://graph.microsoft.com/AuditLog.Read.All").await;
    assert_graph_error(&app.get("/v1.0/auditLogs/signIns", &frank_audit).await, 403, "Authorization_RequestDenied");

    // Only what the sign-in filter can express; anything else is named, never ignored.
    for (query, named) in [
        ("$filter=displayName eq 'x'", "displayName eq 'x'"),
        ("$filter=userId eq '6a4f3b0e-1c1f-4a9e-9a51-000000000000' or appId eq 'x'", "or"),
        ("$filter=status/errorCode eq 50126", "status/errorCode eq 50126"),
        ("$filter=createdDateTime gt 2026-01-01T00:00:00Z", "createdDateTime gt"),
        ("$filter=startswith(userPrincipalName,'a')", "startswith"),
        ("$orderby=createdDateTime", "$orderby"),
        ("$select=id", "$select"),
        ("$count=true", "$count"),
    ] {
        let r = app.get(&format!("/v1.0/auditLogs/signIns?{query}"), &auditor).await;
        assert_graph_error(&r, 400, "Request_UnsupportedQuery");
        assert!(r.body["error"]["message"].as_str().unwrap().contains(named), "{query}: {}", r.body);
    }
    let r = app.get("/v1.0/auditLogs/signIns?$filter=userId eq 'nope'", &auditor).await;
    assert_eq!(r.status, 400, "{}", r.body);
}
