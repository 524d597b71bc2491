//! `atrium bench token`: load the token endpoint with client credentials and report req/s,
//! p50 and p99, next to the raw RS256 signing ceiling of the same machine measured in the
//! same run. A benchmark, not a test: it prints figures and a ratio, it asserts nothing.
//! `atrium bench access` measures the access check; `atrium bench scim` provisions users and
//! groups through the SCIM endpoint and times password sign-ins before and after.

use crate::client::http_client;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Load /oauth2/v2.0/token with client_credentials.
    Token(TokenArgs),
    /// The access check: pure evaluation, the full service call (with the database), and
    /// `POST /access/check` over HTTPS.
    Access(AccessArgs),
    /// Provision users (and a group per 50 of them) through /scim/v2 over HTTPS, with password
    /// sign-in latency before and after.
    Scim(ScimArgs),
}

#[derive(Args)]
pub struct ScimArgs {
    /// Users to provision; one group of 50 of them per 50 users.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Concurrent SCIM requests (one HTTP/1.1 connection each).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Password sign-ins timed before and after provisioning.
    #[arg(long, default_value_t = 30)]
    sign_ins: usize,
    /// postgres://… of an empty database to run on (the run leaves its tenants there)
    /// [default: SQLite in a temporary data directory].
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Args)]
pub struct AccessArgs {
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seconds of HTTP load (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Calls of the in-process service.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
}

#[derive(Args)]
pub struct TokenArgs {
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seconds of load (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Load an already running server instead of starting one: its base URL...
    #[arg(long, requires_all = ["tenant", "client_id", "client_secret"])]
    url: Option<String>,
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long)]
    client_secret: Option<String>,
    /// Defaults to `<client id>/.default`.
    #[arg(long)]
    scope: Option<String>,
    #[arg(long)]
    ca_cert: Option<PathBuf>,
}

struct Target {
    token_url: String,
    form: Vec<(String, String)>,
    ca: Option<PathBuf>,
}

/// A server started for the run, stopped on drop.
struct Spawned(Child, PathBuf);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    let a = match cmd {
        BenchCommand::Token(a) => a,
        BenchCommand::Access(a) => return access(a).await,
        BenchCommand::Scim(a) => return scim(a).await,
    };
    let (target, _server) = match &a.url {
        Some(url) => {
            let cid = a.client_id.clone().unwrap_or_default();
            let scope = a.scope.clone().unwrap_or_else(|| format!("{cid}/.default"));
            let t = Target {
                token_url: format!("{}/{}/oauth2/v2.0/token", url.trim_end_matches('/'), a.tenant.clone().unwrap_or_default()),
                form: form(&cid, a.client_secret.as_deref().unwrap_or_default(), &scope),
                ca: a.ca_cert.clone(),
            };
            (t, None)
        }
        None => {
            let (t, s) = start_server().await?;
            (t, Some(s))
        }
    };
    let http = http_client(target.ca.as_ref())?;
    let probe = http.post(&target.token_url).form(&target.form).send().await.context("the token endpoint is not reachable")?;
    if !probe.status().is_success() {
        bail!("the token endpoint refused the credentials: {}", probe.text().await.unwrap_or_default());
    }
    let rsa_bits = token_key_bits(&probe.json::<Value>().await?);
    eprintln!("Loading {} with {} connections for {} s (after 1 s of warm-up)...", target.token_url, a.connections, a.seconds);
    let (rps, p50, p99, errors) = load(&target, a.connections, a.seconds).await?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let ceiling = tokio::task::spawn_blocking(move || rs256_ceiling(threads, Duration::from_secs(3))).await??;
    println!("token endpoint: client_credentials, RS256 ({rsa_bits}-bit), {} connections, {} s", a.connections, a.seconds);
    println!("  throughput: {rps:.0} req/s   p50: {p50:.2} ms   p99: {p99:.2} ms   errors: {errors}");
    println!("raw RS256 signing ceiling ({threads} threads, in process, no HTTP): {ceiling:.0} signatures/s");
    println!("ratio: {:.2} of the ceiling (the design target is at least 0.85 with p99 under 5 ms)", rps / ceiling);
    Ok(())
}

fn form(cid: &str, secret: &str, scope: &str) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), "client_credentials".into()),
        ("client_id".into(), cid.into()),
        ("client_secret".into(), secret.into()),
        ("scope".into(), scope.into()),
    ]
}

fn token_key_bits(v: &Value) -> usize {
    // The signature of an RS256 JWT is as long as the modulus.
    v["access_token"].as_str().and_then(|t| t.rsplit('.').next()).map(|s| s.len() * 6 / 8 * 8).unwrap_or(0)
}

/// Starts `atrium serve` on a free port with a throwaway data dir, and a demo app.
async fn start_server() -> anyhow::Result<(Target, Spawned)> {
    let (q, listen, server) = spawn_server(None, &[])?;
    let s = |k: &str| q[k].as_str().unwrap_or_default().to_owned();
    let target = Target {
        token_url: format!("https://{listen}/{}/oauth2/v2.0/token", s("tenant_id")),
        form: form(&s("client_id"), &s("client_secret"), &format!("{}/.default", s("client_id"))),
        ca: Some(PathBuf::from(s("ca_path"))),
    };
    Ok((target, server))
}

/// Runs `atrium quickstart --json <extra>` and then `atrium serve` on a free port, with a
/// throwaway data dir (and `database_url` when given). Returns the quickstart's JSON and the
/// listen address once the server is ready.
fn spawn_server(database_url: Option<&str>, quickstart_extra: &[&str]) -> anyhow::Result<(Value, String, Spawned)> {
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("atrium-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let mut db_args = vec!["--data-dir".to_owned(), dir.to_str().unwrap_or(".").to_owned()];
    if let Some(u) = database_url {
        db_args.extend(["--database-url".to_owned(), u.to_owned()]);
    }
    let qs = Command::new(&exe)
        .arg("quickstart")
        .arg("--json")
        .args(quickstart_extra)
        .args(&db_args)
        .env("ATRIUM_LISTEN", &listen)
        .env("RUST_LOG", "warn")
        .output()?;
    if !qs.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        bail!("quickstart failed: {}", String::from_utf8_lossy(&qs.stderr));
    }
    let q: Value = serde_json::from_slice(&qs.stdout).context("quickstart --json printed no JSON object")?;
    let mut child = Command::new(&exe)
        .arg("serve")
        .args(&db_args)
        .args(["--listen", &listen])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let server = Spawned(child, dir);
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("Ready.") => break,
            Some(Ok(_)) => {}
            _ => bail!("the server did not start"),
        }
    }
    // Keep draining the server's stdout.
    std::thread::spawn(move || for _ in lines {});
    Ok((q, listen, server))
}

/// One HTTP/1.1 connection per worker, requests back to back, for `seconds` after one second
/// of warm-up. Returns the sorted latencies in milliseconds and the count of failed requests.
async fn run_load(
    ca: &std::path::Path,
    connections: usize,
    seconds: u64,
    build: Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let start = Instant::now();
    let warm = start + Duration::from_secs(1);
    let end = warm + Duration::from_secs(seconds);
    let pem = std::fs::read(ca)?;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .http1_only()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
            .build()?;
        let build = build.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(50_000);
            let mut errors = 0usize;
            while Instant::now() < end {
                let t0 = Instant::now();
                let ok = match build(&client).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if t0 >= warm {
                    if ok {
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    all.sort_by(f64::total_cmp);
    Ok((all, errors))
}

async fn load(t: &Target, connections: usize, seconds: u64) -> anyhow::Result<(f64, f64, f64, usize)> {
    let ca = t.ca.clone().context("a CA certificate is needed for the benchmark client")?;
    let (url, body) = (t.token_url.clone(), form_urlencoded::Serializer::new(String::new()).extend_pairs(&t.form).finish());
    let build = Arc::new(move |c: &reqwest::Client| c.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body.clone()));
    let (all, errors) = run_load(&ca, connections, seconds, build).await?;
    Ok((all.len() as f64 / seconds as f64, percentile(&all, 0.50), percentile(&all, 0.99), errors))
}


/// RS256 signatures per second on `threads` threads with a key parsed once: the ceiling any
/// RS256 token endpoint on this machine can reach.
fn rs256_ceiling(threads: usize, d: Duration) -> anyhow::Result<f64> {
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::RSA_PKCS1_SHA256;
    let key = Arc::new(KeyPair::generate(KeySize::Rsa2048).map_err(|e| anyhow::anyhow!("{e}"))?);
    let msg = [b'x'; 700];
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let mut sig = vec![0u8; key.public_modulus_len()];
                let mut n = 0u64;
                while start.elapsed() < d {
                    if key.sign(&RSA_PKCS1_SHA256, &rng, &msg, &mut sig).is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or(0.0)
}

/// Sets up an account with a Manager in a throwaway SQLite server, then measures.
async fn access(a: AccessArgs) -> anyhow::Result<()> {
    use atrium_core::services::{NewAccount, NewTenant, NewTenantAdmin, PrincipalInput, SignIn};
    let (p50, p99) = atrium_core::access::bench::bench_evaluate(200_000);
    println!("access check, pure evaluation (3 roles, 20 custom permissions over 50 products, 5 groups): p50 {p50:.2} µs, p99 {p99:.2} µs");

    let dir = std::env::temp_dir().join(format!("atrium-bench-access-{}", std::process::id()));
    let cfg = atrium_server::Config {
        data_dir: dir.clone(),
        listen: "127.0.0.1:0".parse()?,
        ..atrium_server::Config::default()
    };
    let app = atrium_server::Application::build(cfg, atrium_server::Deps::default()).await?;
    let s = app.services.clone();
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let owner = s.local_admin_actor().await.map_err(err)?;
    let account = s.create_account(&owner, NewAccount { name: "Bench".into(), ..NewAccount::default() }).await.map_err(err)?;
    let admin_password = "Adm1n-Passw0rd!";
    let (tenant, admin) = s
        .create_account_tenant(
            &owner,
            account.id,
            NewTenant {
                display_name: "Bench".into(),
                domain_prefix: "bench".into(),
                global_admin: Some(NewTenantAdmin { given_name: "A".into(), surname: "B".into(), username: "admin".into(), password: admin_password.into() }),
                ..NewTenant::default()
            },
        )
        .await
        .map_err(err)?;
    let grant = atrium_core::access::GrantInput { roles: vec!["manager".into()], permissions: Vec::new() };
    let principal = PrincipalInput { kind: "user".into(), id: admin.id.to_string(), tenant_id: Some(tenant.id.to_string()) };
    s.add_members(&owner, account.id, vec![principal], &grant).await.map_err(err)?;
    let signed = s
        .sign_in(SignIn { tenant: tenant.id.to_string(), username: "admin".into(), password: atrium_core::secret::Secret::new(admin_password), otp: None, source: None })
        .await
        .map_err(err)?;
    let actor = s.authenticate(&signed.token).await.map_err(err)?;

    let mut lat = Vec::with_capacity(a.calls);
    for _ in 0..a.calls {
        let t0 = Instant::now();
        s.check_access(&actor, account.id, None, None, "packages", None).await.map_err(err)?;
        lat.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "access check, service call in process (SQLite, {} calls): p50 {:.0} µs, p99 {:.0} µs (design target: p99 < 200 µs)",
        a.calls,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    let port = app.https_addr.port();
    let ca = app.ca_cert.clone().context("no local CA")?;
    tokio::spawn(app.run_until(std::future::pending()));
    let url = format!("https://127.0.0.1:{port}/api/v1/accounts/{}/access/check", account.id);
    let token = signed.token.expose().to_owned();
    let build = Arc::new(move |c: &reqwest::Client| {
        c.post(&url).bearer_auth(&token).header("content-type", "application/json").body(r#"{"permission":"packages"}"#)
    });
    let (all, errors) = run_load(&ca, a.connections, a.seconds, build).await?;
    println!(
        "access check over HTTPS ({} connections, {} s): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors} (design target: p99 < 2 ms)",
        a.connections,
        a.seconds,
        all.len() as f64 / a.seconds as f64,
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// ---------------------------------------------------------------------- SCIM

const SCIM_JSON: &str = "application/scim+json";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Members per provisioned group, and users per group.
const GROUP_SIZE: usize = 50;

/// One request of a fan-out: its item, whether it succeeded, its JSON body and its latency.
struct Outcome {
    index: usize,
    body: Value,
    ms: f64,
    error: Option<String>,
}

type BuildIndexed = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Sends requests for items `0..count` from `concurrency` workers, each on its own HTTP/1.1
/// connection, taking the next item as soon as a request returns (as a provisioning service
/// with a fixed number of connections does).
async fn fan_out(pem: &[u8], concurrency: usize, count: usize, build: BuildIndexed) -> anyhow::Result<Vec<Outcome>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).http1_only().add_root_certificate(reqwest::Certificate::from_pem(pem)?).build()?;
        let (next, build) = (next.clone(), build.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if index >= count {
                    return out;
                }
                let t0 = Instant::now();
                let (body, error) = match build(&client, index).send().await {
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
                        let error = (!status.is_success()).then(|| format!("HTTP {status}: {}", text.chars().take(300).collect::<String>()));
                        (body, error)
                    }
                    Err(e) => (Value::Null, Some(e.to_string())),
                };
                out.push(Outcome { index, body, ms: t0.elapsed().as_secs_f64() * 1000.0, error });
            }
        }));
    }
    let mut all = Vec::with_capacity(count);
    for t in tasks {
        all.extend(t.await?);
    }
    all.sort_by_key(|o| o.index);
    Ok(all)
}

/// Successful latencies (sorted) and the errors of a fan-out; the first errors are printed.
fn tally(what: &str, outcomes: &[Outcome]) -> (Vec<f64>, usize) {
    let mut lat: Vec<f64> = outcomes.iter().filter(|o| o.error.is_none()).map(|o| o.ms).collect();
    lat.sort_by(f64::total_cmp);
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    for e in errors.iter().take(3) {
        eprintln!("  {what} failed: {e}");
    }
    (lat, errors.len())
}

/// `count` password sign-ins one after another; their sorted latencies in milliseconds.
async fn time_sign_ins(http: &reqwest::Client, url: &str, body: &Value, count: usize) -> anyhow::Result<Vec<f64>> {
    let mut lat = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let t0 = Instant::now();
        let r = http.post(url).json(body).send().await?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("sign-in failed with HTTP {status}: {text}");
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

async fn scim(a: ScimArgs) -> anyhow::Result<()> {
    let backend = match a.database_url.as_deref() {
        Some(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    };
    let (q, listen, _server) = spawn_server(a.database_url.as_deref(), &["--scim"])?;
    let s = |k: &str| q[k].as_str().unwrap_or_default().to_owned();
    let (scim_url, token) = (s("scim_url").trim_end_matches('/').to_owned(), s("scim_token"));
    if scim_url.is_empty() || token.is_empty() {
        bail!("`atrium quickstart --json --scim` printed no scim_url/scim_token");
    }
    let pem = std::fs::read(s("ca_path")).context("reading the quickstart's CA certificate")?;
    let http = reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem)?).build()?;
    let probe = http.get(format!("{scim_url}/ServiceProviderConfig")).bearer_auth(&token).send().await.context("the SCIM endpoint is not reachable")?;
    if !probe.status().is_success() {
        bail!("GET {scim_url}/ServiceProviderConfig answered {}: {}", probe.status(), probe.text().await.unwrap_or_default());
    }

    // Sign-ins of the demo tenant's user: their directory lookup and session write share the
    // database with the provisioned users.
    let sign_in_url = format!("https://{listen}/api/v1/sign-in");
    let sign_in = json!({"tenant": s("tenant_id"), "username": s("username"), "password": s("password")});
    let before = time_sign_ins(&http, &sign_in_url, &sign_in, a.sign_ins).await?;

    eprintln!("Provisioning {} users through {scim_url} with {} connections...", a.users, a.concurrency);
    let users_url = format!("{scim_url}/Users");
    let (url, bearer) = (users_url.clone(), token.clone());
    let build: BuildIndexed = Arc::new(move |c: &reqwest::Client, i: usize| {
        let user_name = format!("bench.user{i:06}@bench.example.com");
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "userName": user_name,
            "externalId": format!("bench-{i}"),
            "name": {"givenName": "Bench", "familyName": format!("User {i}")},
            "displayName": format!("Bench User {i}"),
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "active": true,
            "title": "Engineer",
            ENTERPRISE_SCHEMA: {"department": format!("Department {}", i % 20), "employeeNumber": i.to_string()},
        });
        c.post(&url).bearer_auth(&bearer).header("content-type", SCIM_JSON).body(body.to_string())
    });
    let started = Instant::now();
    let created = fan_out(&pem, a.concurrency, a.users, build).await?;
    let users_elapsed = started.elapsed().as_secs_f64();
    let (user_lat, user_errors) = tally("POST /Users", &created);
    let ids: Vec<String> = created.iter().filter(|o| o.error.is_none()).filter_map(|o| o.body["id"].as_str().map(str::to_owned)).collect();

    // Groups as Entra sends them: created empty, then members added by PATCH.
    let groups = if ids.is_empty() { 0 } else { (ids.len() / GROUP_SIZE).max(1) };
    eprintln!("Provisioning {groups} groups of up to {GROUP_SIZE} members...");
    let (url, bearer) = (format!("{scim_url}/Groups"), token.clone());
    let build: BuildIndexed = Arc::new(move |c: &reqwest::Client, g: usize| {
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": format!("Bench group {g}"), "externalId": format!("bench-group-{g}")});
        c.post(&url).bearer_auth(&bearer).header("content-type", SCIM_JSON).body(body.to_string())
    });
    let started = Instant::now();
    let made = fan_out(&pem, a.concurrency, groups, build).await?;
    let group_ids: Vec<Option<String>> = made.iter().map(|o| o.body["id"].as_str().filter(|_| o.error.is_none()).map(str::to_owned)).collect();
    let members: Arc<Vec<String>> = Arc::new(ids.clone());
    let (url, bearer, gids) = (format!("{scim_url}/Groups"), token.clone(), Arc::new(group_ids));
    let build: BuildIndexed = Arc::new(move |c: &reqwest::Client, g: usize| {
        let value: Vec<Value> = members.iter().skip(g * GROUP_SIZE).take(GROUP_SIZE).map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "members", "value": value}]});
        let id = gids.get(g).cloned().flatten().unwrap_or_else(|| "missing".into());
        c.patch(format!("{url}/{id}")).bearer_auth(&bearer).header("content-type", SCIM_JSON).body(body.to_string())
    });
    let patched = fan_out(&pem, a.concurrency, groups, build).await?;
    let groups_elapsed = started.elapsed().as_secs_f64();
    let (mut group_lat, mut group_errors) = tally("POST /Groups", &made);
    let (patch_lat, patch_errors) = tally("PATCH /Groups members", &patched);
    group_lat.extend(patch_lat);
    group_lat.sort_by(f64::total_cmp);
    group_errors += patch_errors;

    let after = time_sign_ins(&http, &sign_in_url, &sign_in, a.sign_ins).await?;

    let per_s = |n: usize, secs: f64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    println!(
        "SUMMARY backend={backend} measure=scim_create users={} per_s={:.1} p50_ms={:.2} p99_ms={:.2} errors={user_errors} concurrency={}",
        user_lat.len(),
        per_s(user_lat.len(), users_elapsed),
        percentile(&user_lat, 0.5),
        percentile(&user_lat, 0.99),
        a.concurrency
    );
    println!(
        "SUMMARY backend={backend} measure=scim_groups groups={groups} requests={} per_s={:.1} p50_ms={:.2} p99_ms={:.2} errors={group_errors}",
        group_lat.len(),
        per_s(group_lat.len(), groups_elapsed),
        percentile(&group_lat, 0.5),
        percentile(&group_lat, 0.99)
    );
    for (phase, lat) in [("before", &before), ("after", &after)] {
        println!(
            "SUMMARY backend={backend} measure=sign_in phase={phase} provisioned={} sign_ins={} p50_ms={:.2} p99_ms={:.2}",
            if phase == "before" { 0 } else { ids.len() },
            lat.len(),
            percentile(lat, 0.5),
            percentile(lat, 0.99)
        );
    }
    let (b, f) = (percentile(&before, 0.5), percentile(&after, 0.5));
    println!(
        "sign-in p50 after provisioning {} users: {f:.2} ms vs {b:.2} ms before ({:+.0}%; password hashing dominates, so a directory lookup that slowed with size would show here)",
        ids.len(),
        if b > 0.0 { (f / b - 1.0) * 100.0 } else { 0.0 }
    );
    if user_errors + group_errors > 0 {
        bail!("{} SCIM requests failed", user_errors + group_errors);
    }
    Ok(())
}
