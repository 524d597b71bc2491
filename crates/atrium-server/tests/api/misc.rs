use crate::helpers::TestApp;
use reqwest::Method;

api_tests!(health_docs_and_unknown_routes);

async fn health_docs_and_unknown_routes(app: TestApp) {
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert!(r.headers.contains_key("x-request-id"));
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("ready")));

    let r = app.request(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", r.body["openapi"]);
    for path in ["/api/v1/sign-in", "/api/v1/tenants", "/api/v1/tenants/{tenantId}/users", "/api/v1/tenants/{tenantId}/groups/{groupId}/members"] {
        assert!(r.body["paths"][path].is_object(), "missing {path} in the OpenAPI document");
    }
    assert!(r.body["components"]["schemas"]["ErrorResponse"].is_object());

    let docs = app.client.get(format!("{}/api/v1/docs", app.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("<title>Atrium API</title>") && !html.contains("https://cdn"), "the docs page must be self-contained");

    let r = app.request(Method::GET, "/api/v1/nope", None, None).await;
    r.assert_error(404, "not_found", None);
}
