//! Configuration: defaults, then a TOML file, then `ATRIUM_*` environment variables, then
//! command-line flags. Unknown keys are an error wherever they come from, so a typo never
//! silently falls back to a default.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `ATRIUM_*` variables that are not configuration keys: the CLI's, and the test scripts'
/// (`ATRIUM_BIN`, `ATRIUM_VENV` and every `ATRIUM_TEST_*`).
pub const NON_CONFIG_ENV: &[&str] = &["CONFIG", "URL", "CA_CERT", "TOKEN", "CLI_DIR", "BIN", "VENV"];

fn is_config_env(key: &str) -> bool {
    !NON_CONFIG_ENV.contains(&key) && !key.starts_with("TEST_")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database, the local CA and other state live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; defaults to `sqlite://<data_dir>/atrium.db`.
    pub database_url: Option<String>,
    /// The HTTPS listener.
    pub listen: SocketAddr,
    /// An optional plain-HTTP listener; it must be a loopback address.
    pub http_listen: Option<SocketAddr>,
    /// A real certificate chain and key (PEM). Without them a local CA is created in the data dir.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Names in the generated server certificate.
    pub tls_names: Vec<String>,
    /// The URL clients use to reach this server (behind a proxy); defaults to the listener.
    pub public_url: Option<String>,
    /// Tenant domains are `<prefix>.<domain_suffix>`.
    pub domain_suffix: String,
    pub lockout_threshold: i32,
    pub lockout_seconds: i64,
    /// Throttling: the window, and the limits per window (0 turns a limit off). Counted in
    /// the database, so every node on one PostgreSQL shares them.
    pub throttle_window_seconds: i64,
    pub throttle_client_auth_per_client: i64,
    pub throttle_client_auth_per_address: i64,
    pub throttle_sign_in_per_address: i64,
    pub throttle_scim_writes_per_token: i64,
    pub throttle_graph_writes_per_token: i64,
    pub session_seconds: i64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    pub request_timeout_seconds: u64,
    /// A tracing filter such as `info` or `atrium_server=debug`.
    pub log: String,
    /// The key that encrypts token-signing keys at rest: 32 bytes in base64. Every node of a
    /// deployment needs the same one. Without it, `<data_dir>/master.key` is used (and created).
    pub master_key: Option<String>,
    /// Access and id token lifetime.
    pub access_token_seconds: i64,
    /// For black-box tests only: shifts this node's clock (e.g. to see keys expire). Logged
    /// loudly when set.
    pub debug_clock_offset_seconds: i64,
    /// The SMTP server that delivers mail (invitations). Without it mail stays queued in the
    /// outbox, visible with `atrium mail list`, and is delivered once a server is configured.
    pub smtp_host: Option<String>,
    /// Defaults to 587 for `starttls`, 465 for `tls` and 25 for `none`.
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS, "SMTPS") or `none` (plain; only for a relay
    /// on this machine or a trusted network).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    /// Give it as `ATRIUM_SMTP_PASSWORD_FILE` rather than in the file.
    pub smtp_password: Option<String>,
    /// An extra CA certificate (PEM) trusted for the SMTP server, e.g. a private relay's.
    pub smtp_ca_cert: Option<PathBuf>,
    pub smtp_timeout_seconds: u64,
    /// The sender, `Name <address>`.
    pub mail_from: String,
    /// Delivery attempts before a mail is dead-lettered.
    pub mail_max_attempts: i32,
    /// The first retry waits this long, each further one twice as long (at most an hour).
    pub mail_retry_seconds: i64,
    /// How often each node's worker looks for due mail.
    pub mail_poll_millis: u64,
    /// How long an invitation link works; 0: until accepted or revoked.
    pub invitation_days: i64,
    /// A separate plain-HTTP listener for Prometheus `GET /metrics` (off when unset). It is
    /// unauthenticated: bind it to loopback or a private network.
    pub metrics_listen: Option<SocketAddr>,
    /// On SIGTERM or Ctrl-C: how long in-flight requests may run before connections are closed.
    pub shutdown_grace_seconds: u64,
    /// On SIGTERM or Ctrl-C: how long `/readyz` answers 503 while new requests are still served,
    /// before the listeners close (so a load balancer notices first).
    pub shutdown_delay_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./atrium-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            http_listen: None,
            tls_cert: None,
            tls_key: None,
            tls_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            public_url: None,
            domain_suffix: "onatrium.local".into(),
            lockout_threshold: 5,
            lockout_seconds: 15 * 60,
            throttle_window_seconds: 60,
            throttle_client_auth_per_client: 20,
            throttle_client_auth_per_address: 30,
            throttle_sign_in_per_address: 30,
            throttle_scim_writes_per_token: 600,
            throttle_graph_writes_per_token: 600,
            session_seconds: 8 * 3600,
            max_body_bytes: 64 * 1024,
            request_timeout_seconds: 30,
            // rustls warns on every client that sends an IP address as SNI (curl, wrk and
            // OpenSSL do for https://127.0.0.1); harmless, so not worth a log line each.
            log: "info,rustls=error".into(),
            master_key: None,
            access_token_seconds: 3599,
            debug_clock_offset_seconds: 0,
            smtp_host: None,
            smtp_port: None,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_ca_cert: None,
            smtp_timeout_seconds: 15,
            mail_from: "Atrium <no-reply@onatrium.local>".into(),
            mail_max_attempts: 8,
            mail_retry_seconds: 30,
            mail_poll_millis: 1000,
            invitation_days: 30,
            metrics_listen: None,
            shutdown_grace_seconds: 30,
            shutdown_delay_seconds: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration ({origin}): {message}")]
    Invalid { origin: String, message: String },
}

fn invalid(origin: &str, message: impl ToString) -> ConfigError {
    ConfigError::Invalid { origin: origin.to_owned(), message: message.to_string() }
}

impl Config {
    /// Loads the file (if any) and the environment, then checks the result.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut table = toml::Table::new();
        let mut origin = "defaults".to_owned();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
            table = text.parse::<toml::Table>().map_err(|e| invalid(&path.display().to_string(), e))?;
            origin = path.display().to_string();
            // Check the file on its own first, so its errors name the file.
            toml::Value::Table(table.clone()).try_into::<Config>().map_err(|e| invalid(&origin, e))?;
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix("ATRIUM_") else { continue };
            if !is_config_env(key) {
                continue;
            }
            let (key, value) = match key.strip_suffix("_FILE") {
                // Secrets can come from files (e.g. ATRIUM_DATABASE_URL_FILE).
                Some(k) => {
                    let v = std::fs::read_to_string(&value)
                        .map_err(|source| ConfigError::Read { path: PathBuf::from(&value), source })?;
                    (k.to_ascii_lowercase(), v.trim_end().to_owned())
                }
                None => (key.to_ascii_lowercase(), value),
            };
            // A value that parses as TOML (a number, a bool, an array) is taken as such;
            // anything else is a string.
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            table.insert(key, parsed);
            origin = "environment".into();
        }
        let cfg: Config = toml::Value::Table(table).try_into().map_err(|e| {
            let msg = e.to_string();
            invalid(&origin, msg.replace("unknown field", "unknown key (from the file or an ATRIUM_* variable)"))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(http) = self.http_listen
            && !http.ip().is_loopback()
        {
            return Err(invalid("http_listen", "the plain-HTTP listener may only bind to a loopback address (127.0.0.1 or ::1)"));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(invalid("tls_cert/tls_key", "give both a certificate and a key, or neither"));
        }
        atrium_core::domain::DomainSuffix::parse(&self.domain_suffix).map_err(|e| invalid("domain_suffix", e.message))?;
        if self.lockout_threshold < 1 || self.lockout_seconds < 1 || self.session_seconds < 60 {
            return Err(invalid("lockout/session", "lockout_threshold and lockout_seconds must be positive, session_seconds at least 60"));
        }
        if !(1..=86_400).contains(&self.throttle_window_seconds) {
            return Err(invalid("throttle_window_seconds", "must be between 1 and 86400"));
        }
        let limits = [
            self.throttle_client_auth_per_client,
            self.throttle_client_auth_per_address,
            self.throttle_sign_in_per_address,
            self.throttle_scim_writes_per_token,
            self.throttle_graph_writes_per_token,
        ];
        if limits.iter().any(|l| *l < 0) {
            return Err(invalid("throttle_*", "a throttling limit is a count per window, or 0 for no limit"));
        }
        if !(300..=86_400).contains(&self.access_token_seconds) {
            return Err(invalid("access_token_seconds", "must be between 300 and 86400"));
        }
        if let Some(k) = &self.master_key {
            atrium_crypto::jwt::MasterKey::from_base64(k).map_err(|e| invalid("master_key", e))?;
        }
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(invalid("database_url", "use sqlite://<path> or postgres://..."));
        }
        if !["starttls", "tls", "none"].contains(&self.smtp_security.as_str()) {
            return Err(invalid("smtp_security", "use starttls, tls or none"));
        }
        if self.smtp_username.is_some() != self.smtp_password.is_some() {
            return Err(invalid("smtp_username/smtp_password", "give both a user name and a password, or neither"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() || self.mail_from.chars().any(char::is_control) {
            return Err(invalid("mail_from", "use an address such as \"Atrium <no-reply@example.com>\""));
        }
        if !(1..=50).contains(&self.mail_max_attempts) || !(1..=3600).contains(&self.mail_retry_seconds) {
            return Err(invalid("mail_max_attempts/mail_retry_seconds", "mail_max_attempts must be 1 to 50, mail_retry_seconds 1 to 3600"));
        }
        if !(10..=60_000).contains(&self.mail_poll_millis) || !(1..=300).contains(&self.smtp_timeout_seconds) {
            return Err(invalid("mail_poll_millis/smtp_timeout_seconds", "mail_poll_millis must be 10 to 60000, smtp_timeout_seconds 1 to 300"));
        }
        if !(0..=3650).contains(&self.invitation_days) {
            return Err(invalid("invitation_days", "must be 0 (no expiry) to 3650"));
        }
        if !(1..=3600).contains(&self.shutdown_grace_seconds) || self.shutdown_delay_seconds > 300 {
            return Err(invalid("shutdown_grace_seconds/shutdown_delay_seconds", "shutdown_grace_seconds must be 1 to 3600, shutdown_delay_seconds 0 to 300"));
        }
        Ok(())
    }

    /// The SMTP port, from the setting or the security mode.
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.smtp_security.as_str() {
            "tls" => 465,
            "none" => 25,
            _ => 587,
        })
    }

    /// The database URL, defaulting to SQLite in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("atrium.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn env_overrides_and_types() {
        let c = Config::load(None, env(&[("ATRIUM_LOCKOUT_THRESHOLD", "3"), ("ATRIUM_LISTEN", "127.0.0.1:9443"), ("HOME", "/x")])).unwrap();
        assert_eq!(c.lockout_threshold, 3);
        assert_eq!(c.listen.port(), 9443);
        assert_eq!(c.database_url(), "sqlite://./atrium-data/atrium.db");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::load(None, env(&[("ATRIUM_LISTEN_PORT", "1")])).unwrap_err().to_string();
        assert!(e.contains("listen_port"), "{e}");
        let dir = std::env::temp_dir().join(format!("atrium-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("atrium.toml");
        std::fs::write(&f, "listne = \"127.0.0.1:1\"\n").unwrap();
        let e = Config::load(Some(&f), env(&[])).unwrap_err().to_string();
        assert!(e.contains("listne") && e.contains("atrium.toml"), "{e}");
        // Variables of the CLI and the test script are not config keys.
        assert!(Config::load(None, env(&[("ATRIUM_TOKEN", "x"), ("ATRIUM_TEST_DATABASE_URL", "y"), ("ATRIUM_BIN", "z"), ("ATRIUM_TEST_LOG_DIR", "w")])).is_ok());
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(Config::load(None, env(&[("ATRIUM_HTTP_LISTEN", "0.0.0.0:8080")])).is_err());
        assert!(Config::load(None, env(&[("ATRIUM_HTTP_LISTEN", "127.0.0.1:8080")])).is_ok());
    }
}
