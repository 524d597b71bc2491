//! `atrium serve`: open the store, bootstrap the owner, set up TLS, and run the listeners.

use crate::app::build_app;
use crate::config::Config;
use crate::state::AppState;
use anyhow::Context;
use atrium_core::domain::DomainSuffix;
use atrium_core::ports::{Clock, Rng};
use atrium_core::services::{OwnerCredentials, Policy, Services};
use atrium_crypto::jwt::{KeyRing, MasterKey, SharedKeyRing, generate_signing_key};
use atrium_crypto::{Argon2Hasher, OsRng, SystemClock};
use atrium_core::time::Timestamp;
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
use tokio::sync::{oneshot, watch};
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
    pub keys: SharedKeyRing,
    master: MasterKey,
    activity_rx: crate::activity::ActivityReceiver,
    sign_in_rx: crate::sign_ins::SignInReceiver,
    mailer: Option<Arc<dyn atrium_core::ports::Mailer>>,
    mail_poll: Duration,
    router: Router,
    https: TcpListener,
    http: Option<TcpListener>,
    tls: Arc<ServerConfig>,
    /// The `/metrics` listener (`metrics_listen`), when configured.
    pub metrics_addr: Option<SocketAddr>,
    metrics_listener: Option<TcpListener>,
    metrics: Arc<crate::metrics::Metrics>,
    shutdown_grace: Duration,
    shutdown_delay: Duration,
}

impl Application {
    pub async fn build(config: Config, deps: Deps) -> anyhow::Result<Self> {
        let (services, keys) = build_services(&config, &deps).await?;
        let (sign_in_sink, sign_in_rx) = crate::sign_ins::channel();
        let services = services.with_sign_in_sink(Arc::new(sign_in_sink));
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
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("binding the metrics listener to {addr}"))?),
            None => None,
        };
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let mailer = crate::mailer::SmtpMailer::from_config(&config)?.map(|m| Arc::new(m) as Arc<dyn atrium_core::ports::Mailer>);
        if mailer.is_none() {
            tracing::warn!("no smtp_host is configured: invitation mail is queued in the outbox but not delivered (see `atrium mail list`)");
        }
        let (activity, activity_rx) = crate::activity::channel();
        let public_url = config.public_url.clone().map(|u| u.trim_end_matches('/').to_owned());
        let allowed_hosts = crate::edge::AllowedHosts::new(public_url.as_deref(), &config.tls_names, https.local_addr()?, http.as_ref().map(|l| l.local_addr()).transpose()?);
        let state = AppState {
            activity,
            services: services.clone(),
            session_seconds: config.session_seconds,
            keys: keys.clone(),
            public_url,
            allowed_hosts: Arc::new(allowed_hosts),
            metrics: metrics.clone(),
        };
        let router = build_app(state, config.max_body_bytes, Duration::from_secs(config.request_timeout_seconds));
        // Files created above (the database, TLS keys) were created private by the umask of
        // `atrium`; an embedding process may have a looser one.
        crate::files::secure_data_dir(&config)?;
        Ok(Self {
            https_addr: https.local_addr()?,
            http_addr: http.as_ref().map(|l| l.local_addr()).transpose()?,
            ca_cert,
            owner,
            services,
            keys,
            master: services_master(&config, &deps)?,
            activity_rx,
            sign_in_rx,
            mailer,
            mail_poll: Duration::from_millis(config.mail_poll_millis),
            router,
            https,
            http,
            tls,
            metrics_addr: metrics_listener.as_ref().map(|l| l.local_addr()).transpose()?,
            metrics_listener,
            metrics,
            shutdown_grace: Duration::from_secs(config.shutdown_grace_seconds),
            shutdown_delay: Duration::from_secs(config.shutdown_delay_seconds),
        })
    }

    /// Serves until `shutdown` resolves (or a listener fails), then drains:
    /// 1. `/readyz` answers 503, while requests are still served for `shutdown_delay_seconds`
    ///    so load balancers notice;
    /// 2. the listeners stop accepting; in-flight requests get up to `shutdown_grace_seconds`
    ///    (idle keep-alive connections close at once, HTTP/2 gets a GOAWAY), and the mail
    ///    worker stops between two mails;
    /// 3. the activity rows still in memory are written.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let services = self.services.clone();
        let purge = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(e) = services.purge_expired_sessions().await {
                    tracing::warn!(error = %e, "purging expired sessions failed");
                }
                if let Err(e) = services.purge_sign_ins().await {
                    tracing::warn!(error = %e, "purging sign-in logs older than 30 days failed");
                }
                if let Err(e) = services.purge_throttle().await {
                    tracing::warn!(error = %e, "purging throttling counters failed");
                }
                if let Err(e) = services.purge_passkey_ceremonies().await {
                    tracing::warn!(error = %e, "purging expired passkey ceremonies failed");
                }
            }
        });
        // Pick up signing keys rotated by another node or by `atrium keys rotate`.
        let (services, keys, master) = (self.services.clone(), self.keys.clone(), self.master.clone());
        let reload = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                if let Err(e) = reload_keys(&services, &master, &keys).await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let (flush_tx, flush_rx) = oneshot::channel();
        let activity = tokio::spawn(crate::activity::run_writer(self.services.clone(), self.activity_rx, flush_rx));
        let (flush_sign_ins, flush_sign_ins_rx) = oneshot::channel();
        let sign_ins = tokio::spawn(crate::sign_ins::run_writer(self.services.clone(), self.sign_in_rx, flush_sign_ins_rx));
        let mail = self.mailer.map(|m| tokio::spawn(crate::mailer::run_worker(self.services.clone(), m, self.mail_poll, stop_rx.clone())));
        let mut https = tokio::spawn(serve_tls(self.https, TlsAcceptor::from(self.tls), crate::app::with_hsts(self.router.clone()), stop_rx.clone()));
        let (router, http_stop) = (self.router, stop_rx.clone());
        let mut http = tokio::spawn(async move {
            match self.http {
                Some(l) => axum::serve(l, router.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(stopped(http_stop))
                    .await
                    .map_err(anyhow::Error::from),
                None => {
                    stopped(http_stop).await;
                    Ok(())
                }
            }
        });
        let metrics_task = self.metrics_listener.map(|l| {
            let app = crate::metrics::router(self.metrics.clone(), self.services.clone());
            let stop = stopped(stop_rx.clone());
            tokio::spawn(async move { axum::serve(l, app).with_graceful_shutdown(stop).await })
        });

        let result = tokio::select! {
            () = shutdown => Ok(()),
            r = &mut https => r.map_err(anyhow::Error::from).and_then(|r| r).and(Err(anyhow::anyhow!("the HTTPS listener stopped"))),
            r = &mut http => r.map_err(anyhow::Error::from).and_then(|r| r).and(Err(anyhow::anyhow!("the HTTP listener stopped"))),
        };

        self.metrics.set_draining();
        if !self.shutdown_delay.is_zero() {
            tracing::info!(seconds = self.shutdown_delay.as_secs(), "shutting down: /readyz now answers 503; still serving until the delay ends");
            tokio::time::sleep(self.shutdown_delay).await;
        }
        tracing::info!(grace_seconds = self.shutdown_grace.as_secs(), "shutting down: no new connections; waiting for requests in flight");
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(self.shutdown_grace, async {
            if !https.is_finished() {
                let _ = (&mut https).await;
            }
            if !http.is_finished() {
                let _ = (&mut http).await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(grace_seconds = self.shutdown_grace.as_secs(), "requests still running after the grace period; closing their connections");
        }
        // Aborting the HTTPS task drops its connections; after a clean drain it is a no-op.
        https.abort();
        http.abort();
        // No request can add a row now: write what is buffered.
        let _ = flush_tx.send(());
        if tokio::time::timeout(Duration::from_secs(30), activity).await.is_err() {
            tracing::warn!("writing the buffered activity history took over 30 s; the rest is lost");
        }
        let _ = flush_sign_ins.send(());
        if tokio::time::timeout(Duration::from_secs(30), sign_ins).await.is_err() {
            tracing::warn!("writing the buffered sign-in logs took over 30 s; the rest is lost");
        }
        if let Some(m) = mail {
            // The worker finishes the mail it is sending (bounded by smtp_timeout_seconds).
            let abort = m.abort_handle();
            if tokio::time::timeout(self.shutdown_grace, m).await.is_err() {
                tracing::warn!("the mail worker did not stop in time; its claimed mails are retried when their lease ends");
                abort.abort();
            }
        }
        if let Some(t) = metrics_task {
            t.abort();
        }
        purge.abort();
        reload.abort();
        result
    }
}

/// Resolves once the stop flag is raised (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A clock shifted by a fixed offset (`debug_clock_offset_seconds`, for black-box tests).
struct OffsetClock {
    inner: Arc<dyn Clock>,
    offset_ms: i64,
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.inner.now().as_millis() + self.offset_ms)
    }
}

fn services_master(config: &Config, deps: &Deps) -> anyhow::Result<MasterKey> {
    Ok(match &config.master_key {
        Some(k) => MasterKey::from_base64(k)?,
        None => MasterKey::load_or_create(&config.data_dir.join("master.key"), deps.rng.as_ref())?,
    })
}

/// Opens the store and builds the services and the signing-key ring. Shared by `serve` and the
/// admin commands that work on the database directly (`quickstart`, `keys rotate`).
pub async fn build_services(config: &Config, deps: &Deps) -> anyhow::Result<(Services, SharedKeyRing)> {
    crate::files::secure_data_dir(config)?;
    let url = config.database_url();
    let store = atrium_store::open(&url, true)
        .await
        .with_context(|| format!("opening the database {}", atrium_store::redact_url(&url)))?;
    let suffix = DomainSuffix::parse(&config.domain_suffix).map_err(|e| anyhow::anyhow!("domain_suffix: {}", e.message))?;
    let mut policy = Policy::new(suffix);
    policy.lockout_threshold = config.lockout_threshold;
    policy.lockout_seconds = config.lockout_seconds;
    policy.throttle = atrium_core::services::throttle::ThrottleLimits {
        window_seconds: config.throttle_window_seconds,
        client_auth_per_client: config.throttle_client_auth_per_client,
        client_auth_per_address: config.throttle_client_auth_per_address,
        sign_in_per_address: config.throttle_sign_in_per_address,
        scim_writes_per_token: config.throttle_scim_writes_per_token,
        graph_writes_per_token: config.throttle_graph_writes_per_token,
    };
    policy.session_seconds = config.session_seconds;
    policy.access_token_seconds = config.access_token_seconds;
    policy.invitation_seconds = (config.invitation_days > 0).then(|| config.invitation_days * 86_400);
    policy.mail_max_attempts = config.mail_max_attempts;
    policy.mail_retry_seconds = config.mail_retry_seconds;
    policy.mail_server = config.smtp_host.is_some();
    let clock: Arc<dyn Clock> = if config.debug_clock_offset_seconds != 0 {
        tracing::warn!(offset_seconds = config.debug_clock_offset_seconds, "debug_clock_offset_seconds is set: this node's clock is shifted (tests only)");
        eprintln!("WARNING: debug_clock_offset_seconds = {}: this node's clock is shifted. Use it only in tests.", config.debug_clock_offset_seconds);
        Arc::new(OffsetClock { inner: deps.clock.clone(), offset_ms: config.debug_clock_offset_seconds.saturating_mul(1000) })
    } else {
        deps.clock.clone()
    };
    let master = services_master(config, deps)?;
    let keys = SharedKeyRing::new(KeyRing::load(&master, &[])?);
    let hasher = Arc::new(Argon2Hasher::new(deps.rng.clone()));
    let sealer = Arc::new(atrium_crypto::jwt::MasterSealer::new(master.clone(), deps.rng.clone()));
    let services = Services::new(store, clock, deps.rng.clone(), hasher, Arc::new(keys.clone()), Arc::new(atrium_crypto::TokioPause), sealer, policy)
        .with_passkeys(Arc::new(atrium_crypto::passkeys::WebauthnVerifier));
    ensure_signing_key(&services, &master, deps.rng.clone()).await?;
    reload_keys(&services, &master, &keys).await?;
    // TOTP secrets written before they were sealed are sealed now (idempotent; any node).
    let sealed = services.seal_stored_totp_secrets().await.context("sealing stored TOTP secrets with the master key")?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed TOTP secrets stored before secrets were encrypted at rest");
    }
    Ok((services, keys))
}

/// Creates the first signing key when the database has none. Concurrent first starts may each
/// create one; the newest then signs and all are published, which is harmless.
async fn ensure_signing_key(services: &Services, master: &MasterKey, rng: Arc<dyn Rng>) -> anyhow::Result<()> {
    let now = services.clock().now();
    if services.signing_keys(now).await?.iter().any(|k| k.retired_at.is_none()) {
        return Ok(());
    }
    let master = master.clone();
    let key = tokio::task::spawn_blocking(move || generate_signing_key(&master, rng.as_ref(), now)).await??;
    services.add_signing_key(key, false).await?;
    Ok(())
}

/// Reloads the published and active keys from the database.
pub async fn reload_keys(services: &Services, master: &MasterKey, keys: &SharedKeyRing) -> anyhow::Result<()> {
    let list = services.signing_keys(services.clock().now()).await?;
    let ring = KeyRing::load(master, &list)?;
    if ring.active_kid() != keys.current().active_kid() {
        tracing::info!(kid = ?ring.active_kid(), "signing key loaded");
    }
    keys.replace(ring);
    Ok(())
}

/// `atrium keys rotate`: a new active key; the old ones stay published until their tokens expire.
pub async fn rotate_keys(config: &Config, deps: &Deps) -> anyhow::Result<String> {
    let (services, _) = build_services(config, deps).await?;
    let master = services_master(config, deps)?;
    let now = services.clock().now();
    let rng = deps.rng.clone();
    let key = tokio::task::spawn_blocking(move || generate_signing_key(&master, rng.as_ref(), now)).await??;
    let kid = key.kid.clone();
    services.add_signing_key(key, true).await?;
    Ok(kid)
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

/// Accepts TLS connections and serves each with HTTP/1.1 or HTTP/2 (by ALPN) until `stop`;
/// then closes the listener and shuts every connection down gracefully: requests in flight
/// finish, idle connections close. Returns when the last connection is gone. Aborting the
/// returned future drops (closes) the remaining connections.
async fn serve_tls(listener: TcpListener, acceptor: TlsAcceptor, router: Router, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut conns = tokio::task::JoinSet::new();
    let stopping = stopped(stop.clone());
    tokio::pin!(stopping);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Reap finished connections, so the set holds only live ones.
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            () = &mut stopping => break,
        };
        let acceptor = acceptor.clone();
        // Each request carries the TCP peer (as axum's `ConnectInfo`), for throttling by address
        // and the sign-in log.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(router.clone(), move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        }));
        let stopping = stopped(stop.clone());
        conns.spawn(async move {
            tokio::pin!(stopping);
            let tls = tokio::select! {
                r = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)) => match r {
                    Ok(Ok(tls)) => tls,
                    _ => return,
                },
                () = &mut stopping => return,
            };
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                () = &mut stopping => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    // Closing the listener refuses new connections at once.
    drop(listener);
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// The client's address: the TCP peer of the connection the request came on (set by the
/// listeners), without the port.
pub(crate) fn peer_address<B>(req: &axum::http::Request<B>) -> Option<String> {
    req.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())
}
