//! Operations (issue 17): Prometheus metrics on their own listener, readiness, and the drain on
//! shutdown (requests in flight finish, buffered activity rows are written). Both backends.

use crate::accounts::account_with_manager;
use crate::helpers::{TestApp, spawn_app, spawn_app_until, spawn_app_with};
use atrium_store::testing::Backend;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `<name>::sqlite` and `<name>::postgres` from `async fn <name>(backend)`, for tests that
/// configure or stop their own server.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(atrium_store::testing::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(atrium_store::testing::Backend::Postgres).await;
            }
        }
    )*};
}

backend_tests!(metrics_count_requests_tokens_sign_in_failures_and_the_outbox, shutdown_finishes_requests_in_flight, shutdown_writes_buffered_activity);
api_tests!(metrics_are_off_by_default, readyz_fails_when_the_database_stops_answering);

pub(crate) async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr.expect("metrics_listen is set");
    let r = reqwest::get(format!("http://{addr}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    r.text().await.unwrap()
}

/// The value of the sample line `series` (name and labels exactly as written).
#[track_caller]
pub(crate) fn sample(text: &str, series: &str) -> f64 {
    let line = text.lines().find(|l| l.strip_prefix(series).is_some_and(|rest| rest.starts_with(' '))).unwrap_or_else(|| panic!("no {series} in:\n{text}"));
    line[series.len()..].trim().parse().unwrap()
}

async fn metrics_count_requests_tokens_sign_in_failures_and_the_outbox(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let owner = app.owner().await;
    // A wrong password on the REST sign-in.
    app.sign_in("personal.onatrium.local", &app.owner_upn, "Wrong-Passw0rd!").await.assert_error(401, "invalid_credentials", None);
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    for _ in 0..2 {
        app.get(&format!("/api/v1/tenants/{tid}"), &admin).await.ok();
    }
    let a = app.post(&format!("/api/v1/tenants/{tid}/applications"), &admin, json!({"displayName": "Web", "appIdUri": "api://contoso-web"})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let k = app.post(&format!("/api/v1/tenants/{tid}/applications/{}/keys", a.body["id"].as_str().unwrap()), &admin, json!({})).await;
    let (cid, secret) = (a.body["appId"].as_str().unwrap(), k.body["secret"].as_str().unwrap());
    let token = |s: &str| {
        let form = [("grant_type", "client_credentials"), ("client_id", cid), ("client_secret", s), ("scope", "api://contoso-web/.default")];
        app.client.post(format!("{}/{tid}/oauth2/v2.0/token", app.base)).form(&form).send()
    };
    assert_eq!(token(secret).await.unwrap().status(), 200);
    assert_eq!(token("not-the-secret").await.unwrap().status(), 401);
    assert_eq!(app.get("/no/such/page/123", &admin).await.status, 404);
    // One invitation mail waits in the outbox (no SMTP server is configured).
    let (acc, _, fabrikam_admin) = account_with_manager(&app, &owner, "fabrikam").await;
    let r = app.post(&format!("/api/v1/accounts/{acc}/invitations"), &fabrikam_admin, json!({"emails": "guest@example.com", "grant": {"roles": ["developer"]}})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.clock.advance_seconds(90);

    let m = scrape(&app).await;
    for t in ["atrium_http_requests_total counter", "atrium_http_request_duration_seconds histogram", "atrium_tokens_issued_total counter",
              "atrium_sign_in_failures_total counter", "atrium_throttled_requests_total counter", "atrium_outbox_pending gauge"] {
        assert!(m.contains(&format!("# TYPE {t}\n")), "{t} in\n{m}");
    }
    assert!(m.contains("# HELP atrium_throttled_requests_total") && m.contains("by scope"), "{m}");
    // By route template: the tenant's id never becomes a label.
    assert_eq!(sample(&m, r#"atrium_http_requests_total{method="GET",route="/api/v1/tenants/{tenantId}",status="200"}"#), 2.0);
    assert!(!m.contains(&tid), "a raw id leaked into a label:\n{m}");
    assert_eq!(sample(&m, r#"atrium_http_requests_total{method="GET",route="unmatched",status="404"}"#), 1.0);
    assert!(!m.contains("/no/such/page"), "{m}");
    assert_eq!(sample(&m, r#"atrium_http_requests_total{method="POST",route="/{tenant}/oauth2/v2.0/token",status="200"}"#), 1.0);
    assert_eq!(sample(&m, r#"atrium_http_requests_total{method="POST",route="/{tenant}/oauth2/v2.0/token",status="401"}"#), 1.0);
    let token_route = r#"method="POST",route="/{tenant}/oauth2/v2.0/token""#;
    assert_eq!(sample(&m, &format!("atrium_http_request_duration_seconds_count{{{token_route}}}")), 2.0);
    assert_eq!(sample(&m, &format!("atrium_http_request_duration_seconds_bucket{{{token_route},le=\"+Inf\"}}")), 2.0);
    assert!(sample(&m, &format!("atrium_http_request_duration_seconds_sum{{{token_route}}}")) > 0.0);
    assert_eq!(sample(&m, r#"atrium_tokens_issued_total{grant_type="client_credentials"}"#), 1.0);
    assert_eq!(sample(&m, r#"atrium_tokens_issued_total{grant_type="password"}"#), 0.0);
    assert_eq!(sample(&m, r#"atrium_sign_in_failures_total{endpoint="api"}"#), 1.0);
    assert_eq!(sample(&m, r#"atrium_sign_in_failures_total{endpoint="token"}"#), 1.0);
    assert_eq!(sample(&m, r#"atrium_throttled_requests_total{scope="client_auth_client"}"#), 0.0);
    assert_eq!(sample(&m, "atrium_outbox_pending"), 1.0);
    assert_eq!(sample(&m, "atrium_outbox_oldest_age_seconds"), 90.0);
    assert_eq!(sample(&m, "atrium_up"), 1.0);
    assert_eq!(sample(&m, "atrium_draining"), 0.0);
    let pool = if backend == Backend::Sqlite { "writer" } else { "main" };
    assert!(sample(&m, &format!("atrium_db_pool_connections{{pool=\"{pool}\"}}")) >= 1.0, "{m}");
    assert!(sample(&m, &format!("atrium_db_pool_max_connections{{pool=\"{pool}\"}}")) >= 1.0, "{m}");
    let idle = sample(&m, &format!("atrium_db_pool_idle_connections{{pool=\"{pool}\"}}"));
    assert!(idle <= sample(&m, &format!("atrium_db_pool_connections{{pool=\"{pool}\"}}")), "{m}");
    // Never on the public HTTPS port.
    assert_eq!(app.get("/metrics", &admin).await.status, 404);
}

async fn metrics_are_off_by_default(app: TestApp) {
    assert!(app.metrics_addr.is_none());
    let r = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

async fn readyz_fails_when_the_database_stops_answering(app: TestApp) {
    let r = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.services.store().close().await;
    let r = app.request(reqwest::Method::GET, "/readyz", None, None).await;
    r.assert_error(503, "unavailable", None);
    // The reason stays in the server's log, not in an anonymous reply.
    let text = r.body.to_string();
    assert!(!text.contains("pool") && !text.contains("closed") && !text.contains("sqlx"), "{text}");
    // Liveness does not depend on the database.
    assert_eq!(app.client.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), 200);
}

/// A TLS connection to the server, speaking HTTP/1.1 by hand (to send a body slowly).
async fn tls_connect(app: &TestApp, port: u16) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(app.config.data_dir.join("tls").join("ca.pem")).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots).with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(ServerName::try_from("localhost").unwrap(), tcp).await
}

async fn shutdown_finishes_requests_in_flight(backend: Backend) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = spawn_app_until(
        backend,
        |c| {
            c.shutdown_delay_seconds = 1;
            c.shutdown_grace_seconds = 20;
        },
        async move {
            let _ = stopped.await;
        },
    )
    .await;
    let owner = app.owner().await;
    let (_tid, _admin) = app.tenant_with_admin(&owner, "contoso").await;
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();

    // A sign-in whose body is still arriving when the shutdown begins.
    let body = json!({"tenant": "contoso.onatrium.local", "username": "admin", "password": "Adm1n-Passw0rd!"}).to_string();
    let (first, rest) = body.split_at(20);
    let mut slow = tls_connect(&app, port).await.unwrap();
    let head = format!("POST /api/v1/sign-in HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(first.as_bytes()).await.unwrap();
    slow.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();

    // During the delay the server still answers, but is no longer ready.
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.request(reqwest::Method::GET, "/readyz", None, None).await.assert_error(503, "unavailable", None);
    assert_eq!(app.client.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), 200);

    // After it, new connections are refused while the slow request is still open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "the listener still accepts after the delay");
    assert!(!running.is_finished(), "the server stopped before its request in flight finished");

    // The request in flight completes normally.
    slow.write_all(rest.as_bytes()).await.unwrap();
    slow.flush().await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(read.is_ok(), "no complete reply: {reply}");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"token\""), "{reply}");
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("the server stopped after draining").unwrap().unwrap();
}

async fn shutdown_writes_buffered_activity(backend: Backend) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = spawn_app_until(backend, |_| {}, async move {
        let _ = stopped.await;
    })
    .await;
    let owner = app.owner().await;
    let (acc, _, admin) = account_with_manager(&app, &owner, "contoso").await;
    let admin_id = app.get("/api/v1/me", &admin).await.body["user"]["id"].as_str().unwrap().to_owned();
    let members = format!("/api/v1/accounts/{acc}/members");
    for _ in 0..3 {
        app.get(&members, &admin).await.ok();
    }
    // Stop at once: the rows are still in memory (they are written once a second).
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), running).await.expect("the server stopped").unwrap().unwrap();

    let actor = app.services.authenticate(&atrium_core::secret::Secret::new(owner.clone())).await.unwrap();
    let acc_id = atrium_core::ids::AccountId::parse(&acc, "account").unwrap();
    let rows = app.services.member_activity(&actor, acc_id, "user", &admin_id).await.unwrap();
    assert_eq!(rows.iter().filter(|a| a.route == members && a.method == "GET").count(), 3, "{rows:?}");
}

/// PostgreSQL going away (the database dropped under the server) fails readiness.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_when_the_postgres_database_is_dropped() {
    let app = spawn_app(Backend::Postgres).await;
    let r = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let name = app.config.database_url.as_deref().unwrap().rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let admin = atrium_store::testing::postgres_admin_url();
    let out = tokio::process::Command::new("psql").arg(&admin).args(["-v", "ON_ERROR_STOP=1", "-c", &format!("DROP DATABASE {name} WITH (FORCE)")]).output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.request(reqwest::Method::GET, "/readyz", None, None).await.assert_error(503, "unavailable", None);
}
