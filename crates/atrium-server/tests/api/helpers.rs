//! spawn_app: a real server (HTTPS with its generated CA) on port 0, on a fresh database, with a
//! settable clock.

use atrium_core::ports::Clock;
use atrium_core::time::Timestamp;
use atrium_server::{Application, Config, Deps};
use atrium_store::testing::{Backend, TestDatabase, fresh_database};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub const T0: i64 = 1_764_000_000_000;
pub const OWNER_PASSWORD: &str = "Owner-Passw0rd!";

#[derive(Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance_seconds(&self, s: i64) {
        self.0.fetch_add(s * 1000, Ordering::SeqCst);
    }

    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// Does not follow redirects (for /authorize).
    pub no_redirect: reqwest::Client,
    pub clock: Arc<TestClock>,
    pub owner_upn: String,
    pub owner_one_time_password: String,
    pub config: Config,
    /// The server's services, for setup no HTTP endpoint offers (e.g. SCIM provisioning tokens).
    pub services: atrium_core::services::Services,
    /// The `/metrics` listener, when `metrics_listen` is configured.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Keeps the database (and its directory) alive for the test.
    pub _db: TestDatabase,
}

pub fn config_for(db: &TestDatabase) -> Config {
    Config {
        data_dir: db.dir.join("data"),
        database_url: Some(db.url.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        lockout_threshold: 3,
        lockout_seconds: 600,
        session_seconds: 3600,
        max_body_bytes: 16 * 1024,
        ..Config::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with settings changed by `configure` (e.g. an SMTP server).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_until(backend, configure, std::future::pending()).await.0
}

/// Like [`spawn_app_with`], but the server shuts down (draining) when `shutdown` resolves; the
/// handle finishes when it has.
pub async fn spawn_app_until(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let db = fresh_database(backend).await;
    let mut config = config_for(&db);
    configure(&mut config);
    let clock = Arc::new(TestClock(AtomicI64::new(T0)));
    let deps = Deps { clock: clock.clone(), ..Deps::default() };
    let app = Application::build(config.clone(), deps).await.expect("build the app");
    let owner = app.owner.clone().expect("a fresh database bootstraps the owner");
    let ca = std::fs::read(app.ca_cert.as_ref().expect("a generated CA")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let no_redirect = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", app.https_addr.port());
    let services = app.services.clone();
    let metrics_addr = app.metrics_addr;
    let running = tokio::spawn(app.run_until(shutdown));
    let app = TestApp {
        base,
        client,
        no_redirect,
        clock,
        owner_upn: owner.user_principal_name.clone(),
        owner_one_time_password: owner.password.expose().to_owned(),
        config,
        services,
        metrics_addr,
        _db: db,
    };
    (app, running)
}

/// A response: status and JSON body (`null` when empty).
pub struct Res {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    /// Asserts an error response with this status, code and (optionally) target.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, target: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        if let Some(t) = target {
            assert_eq!(self.body["error"]["target"], t, "body: {}", self.body);
        }
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.body);
        &self.body
    }
}

impl TestApp {
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())) };
        Res { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn sign_in(&self, tenant: &str, username: &str, password: &str) -> Res {
        self.request(Method::POST, "/api/v1/sign-in", None, Some(json!({"tenant": tenant, "username": username, "password": password})))
            .await
    }

    /// Signs in and returns the token, failing the test otherwise.
    pub async fn token(&self, tenant: &str, username: &str, password: &str) -> String {
        let r = self.sign_in(tenant, username, password).await;
        r.ok()["token"].as_str().unwrap().to_owned()
    }

    /// The owner's token, after the forced first password change.
    pub async fn owner(&self) -> String {
        let t = self.token("personal.onatrium.local", &self.owner_upn, &self.owner_one_time_password).await;
        self.post("/api/v1/me/password", &t, json!({"currentPassword": self.owner_one_time_password, "newPassword": OWNER_PASSWORD}))
            .await
            .ok();
        t
    }

    /// Creates a tenant with a global admin `admin@<prefix>...` and returns (tenant id, admin token).
    pub async fn tenant_with_admin(&self, owner: &str, prefix: &str) -> (String, String) {
        let r = self
            .post(
                "/api/v1/tenants",
                owner,
                json!({"displayName": format!("Tenant {prefix}"), "domainPrefix": prefix, "contactEmail": "ops@example.com",
                       "globalAdmin": {"givenName": "Ada", "surname": "Admin", "username": "admin", "password": "Adm1n-Passw0rd!"}}),
            )
            .await;
        let tid = r.ok()["tenant"]["id"].as_str().unwrap().to_owned();
        let token = self.token(&format!("{prefix}.onatrium.local"), "admin", "Adm1n-Passw0rd!").await;
        (tid, token)
    }

    pub async fn create_user(&self, token: &str, tid: &str, alias: &str) -> Value {
        self.post(
            &format!("/api/v1/tenants/{tid}/users"),
            token,
            json!({"userPrincipalName": alias, "givenName": "Test", "surname": alias, "password": "Us3r-Passw0rd!"}),
        )
        .await
        .ok()["user"]
            .clone()
    }

    pub async fn audit_actions(&self, token: &str, tid: &str) -> Vec<String> {
        let r = self.get(&format!("/api/v1/audit?tenantId={tid}"), token).await;
        r.ok().as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
    }
}

impl TestApp {
    /// A second node on this app's database (and data directory, so the same CA and master
    /// key) with the same clock: as two servers behind one load balancer. It serves until the
    /// test ends.
    pub async fn second_node(&self) -> TestApp {
        let deps = Deps { clock: self.clock.clone(), ..Deps::default() };
        let app = Application::build(self.config.clone(), deps).await.expect("build the second node");
        let base = format!("https://localhost:{}", app.https_addr.port());
        let services = app.services.clone();
        let metrics_addr = app.metrics_addr;
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            base,
            client: self.client.clone(),
            no_redirect: self.no_redirect.clone(),
            clock: self.clock.clone(),
            owner_upn: self.owner_upn.clone(),
            owner_one_time_password: self.owner_one_time_password.clone(),
            config: self.config.clone(),
            services,
            metrics_addr,
            // The first node owns the database; this only names the same one.
            _db: TestDatabase { url: self._db.url.clone(), dir: std::path::PathBuf::from("/nonexistent/atrium-second-node") },
        }
    }
}
