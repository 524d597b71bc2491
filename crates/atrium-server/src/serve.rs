//! `atrium serve`: open the store, bootstrap the owner, set up TLS, and run the listeners.

use crate::app::build_app;
use crate::config::Config;
use crate::state::AppState;
use anyhow::Context;
use atrium_core::domain::DomainSuffix;
use atrium_core::ports::{Clock, Rng};
use atrium_core::services::{OwnerCredentials, Policy, Services};
use atrium_crypto::{Argon2Hasher, OsRng, SystemClock};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Injected time and randomness (tests pass fakes; `serve` passes the system's).
#[derive(Clone)]
pub struct Deps {
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
}

impl Default for Deps {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), rng: Arc::new(OsRng) }
    }
}

/// A built server, bound to its ports but not yet serving.
pub struct Application {
    pub https_addr: SocketAddr,
    pub http_addr: Option<SocketAddr>,
    /// The generated CA certificate (absent with `tls_cert`/`tls_key`).
    pub ca_cert: Option<PathBuf>,
    /// The owner's one-time credentials, only on the start that created the owner.
    pub owner: Option<OwnerCredentials>,
    pub services: Services,
    router: Router,
    https: TcpListener,
    http: Option<TcpListener>,
    tls: Arc<ServerConfig>,
}

impl Application {
    pub async fn build(config: Config, deps: Deps) -> anyhow::Result<Self> {
        let url = config.database_url();
        let store = atrium_store::open(&url, true)
            .await
            .with_context(|| format!("opening the database {}", atrium_store::redact_url(&url)))?;
        let suffix = DomainSuffix::parse(&config.domain_suffix).map_err(|e| anyhow::anyhow!("domain_suffix: {}", e.message))?;
        let policy = Policy {
            domain_suffix: suffix,
            lockout_threshold: config.lockout_threshold,
            lockout_seconds: config.lockout_seconds,
            session_seconds: config.session_seconds,
        };
        let hasher = Arc::new(Argon2Hasher::new(deps.rng.clone()));
        let services = Services::new(store, deps.clock.clone(), deps.rng.clone(), hasher, policy);
        let owner = services.bootstrap().await.map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;

        let (cert_path, key_path, ca_cert) = match (&config.tls_cert, &config.tls_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone(), None),
            _ => {
                let now = deps.clock.now().as_millis() / 1000;
                let local = atrium_crypto::tls::ensure_local_tls(&config.data_dir.join("tls"), &config.tls_names, now)?;
                (local.server_cert, local.server_key, Some(local.ca_cert))
            }
        };
        let tls = Arc::new(server_tls(&cert_path, &key_path)?);

        let https = TcpListener::bind(config.listen).await.with_context(|| format!("binding HTTPS to {}", config.listen))?;
        let http = match config.http_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("binding HTTP to {addr}"))?),
            None => None,
        };
        let state = AppState { services: services.clone(), session_seconds: config.session_seconds };
        let router = build_app(state, config.max_body_bytes, Duration::from_secs(config.request_timeout_seconds));
        Ok(Self {
            https_addr: https.local_addr()?,
            http_addr: http.as_ref().map(|l| l.local_addr()).transpose()?,
            ca_cert,
            owner,
            services,
            router,
            https,
            http,
            tls,
        })
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let services = self.services.clone();
        let purge = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(e) = services.purge_expired_sessions().await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
            }
        });
        let https = serve_tls(self.https, TlsAcceptor::from(self.tls), self.router.clone());
        let http = async move {
            match self.http {
                Some(l) => axum::serve(l, self.router).await.map_err(anyhow::Error::from),
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            r = https => r,
            r = http => r,
            () = shutdown => Ok(()),
        };
        purge.abort();
        result
    }
}

fn server_tls(cert: &Path, key: &Path) -> anyhow::Result<ServerConfig> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Accepts TLS connections and serves each with HTTP/1.1 or HTTP/2 (by ALPN).
async fn serve_tls(listener: TcpListener, acceptor: TlsAcceptor, router: Router) -> anyhow::Result<()> {
    loop {
        let (tcp, _peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else {
                return;
            };
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(TokioIo::new(tls), service).await;
        });
    }
}
