//! `atrium serve` and `atrium migrate`.

use anyhow::Context;
use atrium_server::{Application, Config, Deps};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Args, Default)]
pub struct ConfigArgs {
    /// A TOML config file (also ATRIUM_CONFIG). ATRIUM_* variables override it; flags override both.
    #[arg(long, env = "ATRIUM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where state lives [default: ./atrium-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// sqlite://<path> or postgres://... [default: sqlite://<data-dir>/atrium.db].
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The HTTPS listener [default: 127.0.0.1:8443].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// An additional plain-HTTP listener, on a loopback address only.
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// A PEM certificate chain to serve instead of the generated local CA's.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn load(args: &ConfigArgs) -> anyhow::Result<Config> {
    let mut cfg = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(d) = &args.data_dir {
        cfg.data_dir = d.clone();
    }
    if let Some(u) = &args.database_url {
        cfg.database_url = Some(u.clone());
    }
    Ok(cfg)
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = load(&args.config)?;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if args.http_listen.is_some() {
        cfg.http_listen = args.http_listen;
    }
    if args.tls_cert.is_some() {
        cfg.tls_cert = args.tls_cert;
        cfg.tls_key = args.tls_key;
    }
    cfg.validate()?;
    init_tracing(&cfg.log);
    let app = Application::build(cfg.clone(), Deps::default()).await?;
    let host = match app.https_addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let url = cfg.public_url.clone().unwrap_or_else(|| format!("https://{host}:{}", app.https_addr.port()));
    println!("Atrium is listening on {url}");
    if let Some(http) = app.http_addr {
        println!("Plain HTTP (this machine only): http://{http}");
    }
    println!("Database: {}", atrium_store::redact_url(&cfg.database_url()));
    // The generated CA, absolute: the login hint below needs it as well as curl.
    let ca = app.ca_cert.as_ref().map(|ca| std::fs::canonicalize(ca).unwrap_or_else(|_| ca.clone()));
    if let Some(ca) = &ca {
        println!("CA certificate: {}", ca.display());
        println!("  trust it with: curl --cacert {} {url}/healthz", ca.display());
        println!("                 REQUESTS_CA_BUNDLE={} (Python clients)", ca.display());
    }
    if let Some(owner) = &app.owner {
        // Printed exactly once: only this start created the owner, and only a hash is stored.
        println!();
        println!("Owner account created. These credentials are shown only this once:");
        println!("  tenant:   {} ({})", owner.tenant.domain, owner.tenant.id);
        println!("  username: {}", owner.user_principal_name);
        println!("  password: {}", owner.password.expose());
        println!("  The password must be changed at first sign-in:");
        // Without --ca-cert the CLI would not trust the generated certificate.
        let ca_flag = ca.as_ref().map(|c| format!(" --ca-cert {}", c.display())).unwrap_or_default();
        println!("    atrium login --url {url}{ca_flag} --tenant {} --username {}", owner.tenant.domain, owner.user_principal_name);
        println!();
    }
    let stop = shutdown_signal()?;
    println!("Ready. Stop with Ctrl-C.");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let services = app.services.clone();
    let result = app.run_until(stop).await;
    // Last: on SQLite, closing checkpoints the WAL into the database file.
    services.store().close().await;
    if result.is_ok() {
        eprintln!("Stopped.");
    }
    result
}

pub async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let cfg = load(&args.config)?;
    init_tracing("warn");
    atrium_server::files::secure_data_dir(&cfg)?;
    let url = cfg.database_url();
    let applied = atrium_store::migrate(&url).await.with_context(|| format!("migrating {}", atrium_store::redact_url(&url)))?;
    if applied.is_empty() {
        println!("The database is up to date.");
    } else {
        for v in applied {
            let name = atrium_store::MIGRATION_NAMES.iter().find(|(n, _)| *n == v).map(|(_, s)| *s).unwrap_or("?");
            println!("Applied migration {v} ({name}).");
        }
    }
    Ok(())
}

/// Logs to stderr; `RUST_LOG` overrides `filter`. The admin commands use `warn`, so what the
/// start-up checks find (such as files others could read) is shown.
pub fn init_tracing(filter: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT). The handlers are installed now, before "Ready." is
/// printed: a signal that arrives right after must start the drain, not kill the process.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            eprintln!("Shutting down: finishing requests in flight.");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Shutting down: finishing requests in flight.");
    })
}
