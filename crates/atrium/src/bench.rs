//! `atrium bench token`: load the token endpoint with client credentials and report req/s,
//! p50 and p99, next to the raw RS256 signing ceiling of the same machine measured in the
//! same run. A benchmark, not a test: it prints figures and a ratio, it asserts nothing.

use crate::client::http_client;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
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
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("atrium-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let qs = Command::new(&exe)
        .args(["quickstart", "--json", "--data-dir", dir.to_str().unwrap_or(".")])
        .env("ATRIUM_LISTEN", &listen)
        .env("RUST_LOG", "warn")
        .output()?;
    if !qs.status.success() {
        bail!("quickstart failed: {}", String::from_utf8_lossy(&qs.stderr));
    }
    let q: Value = serde_json::from_slice(&qs.stdout)?;
    let mut child = Command::new(&exe)
        .args(["serve", "--data-dir", dir.to_str().unwrap_or("."), "--listen", &listen])
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
    let s = |k: &str| q[k].as_str().unwrap_or_default().to_owned();
    let target = Target {
        token_url: format!("https://{listen}/{}/oauth2/v2.0/token", s("tenant_id")),
        form: form(&s("client_id"), &s("client_secret"), &format!("{}/.default", s("client_id"))),
        ca: Some(PathBuf::from(s("ca_path"))),
    };
    Ok((target, server))
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
        .sign_in(SignIn { tenant: tenant.id.to_string(), username: "admin".into(), password: atrium_core::secret::Secret::new(admin_password) })
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
