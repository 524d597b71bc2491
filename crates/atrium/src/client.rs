//! The HTTP client of the admin commands, and the remembered session.

use anyhow::{Context, bail};
use atrium_api_types::ErrorResponse;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Args, Clone, Default)]
pub struct GlobalArgs {
    /// Server URL, e.g. https://127.0.0.1:8443 [default: the one from `atrium login`].
    #[arg(long, env = "ATRIUM_URL", global = true)]
    pub url: Option<String>,
    /// CA certificate to trust (the server prints its path) [default: the one from `atrium login`].
    #[arg(long, env = "ATRIUM_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// A session token instead of the remembered one.
    #[arg(long, env = "ATRIUM_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What `atrium login` remembers, in `$ATRIUM_CLI_DIR/session.json` (default
/// `~/.config/atrium`), readable only by the user.
#[derive(Serialize, Deserialize, Default)]
pub struct SavedSession {
    pub url: String,
    pub ca_cert: Option<PathBuf>,
    pub token: String,
}

pub fn session_path() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("ATRIUM_CLI_DIR") {
        return Ok(PathBuf::from(dir).join("session.json"));
    }
    let home = std::env::var("HOME").context("HOME is not set; set ATRIUM_CLI_DIR")?;
    Ok(PathBuf::from(home).join(".config").join("atrium").join("session.json"))
}

pub fn load_session() -> Option<SavedSession> {
    let path = session_path().ok()?;
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

pub fn save_session(s: &SavedSession) -> anyhow::Result<PathBuf> {
    let path = session_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(s)?).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(path)
}

pub fn forget_session() -> anyhow::Result<()> {
    let path = session_path()?;
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| format!("removing {}", path.display())),
        _ => Ok(()),
    }
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

pub fn http_client(ca_cert: Option<&PathBuf>) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder().user_agent(concat!("atrium-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_cert {
        let pem = std::fs::read(ca).with_context(|| format!("reading CA certificate {}", ca.display()))?;
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).context("parsing the CA certificate")?);
    }
    Ok(b.build()?)
}

impl Client {
    /// A client from the flags, falling back to the remembered session.
    pub fn from_args(g: &GlobalArgs) -> anyhow::Result<Self> {
        let saved = load_session();
        let base = g
            .url
            .clone()
            .or_else(|| saved.as_ref().map(|s| s.url.clone()))
            .context("no server URL: run `atrium login --url ...` first, or pass --url")?;
        let ca = g.ca_cert.clone().or_else(|| saved.as_ref().and_then(|s| s.ca_cert.clone()));
        let token = g.token.clone().or_else(|| saved.map(|s| s.token));
        Ok(Self { http: http_client(ca.as_ref())?, base: base.trim_end_matches('/').to_owned(), token })
    }

    pub fn new(base: &str, ca_cert: Option<&PathBuf>, token: Option<String>) -> anyhow::Result<Self> {
        Ok(Self { http: http_client(ca_cert)?, base: base.trim_end_matches('/').to_owned(), token })
    }

    async fn send(&self, method: Method, path: &str, body: Option<&serde_json::Value>) -> anyhow::Result<(StatusCode, bytes_body::Body)> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.with_context(|| format!("cannot reach {}", self.base))?;
        let status = res.status();
        let bytes = res.bytes().await?;
        if !status.is_success() {
            return Err(error_of(status, &bytes));
        }
        Ok((status, bytes_body::Body(bytes.to_vec())))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(Method::GET, path, None).await?.1.json()
    }

    /// A GET whose 404 is an answer (`None`), for lookups that try one way and then another.
    pub async fn get_opt<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Option<T>> {
        let res = self.http.get(format!("{}{}", self.base, path));
        let res = match &self.token {
            Some(t) => res.bearer_auth(t),
            None => res,
        };
        let res = res.send().await.with_context(|| format!("cannot reach {}", self.base))?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let status = res.status();
        let bytes = res.bytes().await?;
        if !status.is_success() {
            return Err(error_of(status, &bytes));
        }
        bytes_body::Body(bytes.to_vec()).json().map(Some)
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        self.send(Method::POST, path, Some(body)).await?.1.json()
    }

    pub async fn post_no_content(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<()> {
        self.send(Method::POST, path, Some(body)).await.map(|_| ())
    }

    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        self.send(Method::PATCH, path, Some(body)).await?.1.json()
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        self.send(Method::PUT, path, Some(body)).await?.1.json()
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.send(Method::DELETE, path, None).await.map(|_| ())
    }
}

/// The server's error as one line: message, code and field.
fn error_of(status: StatusCode, bytes: &[u8]) -> anyhow::Error {
    match serde_json::from_slice::<ErrorResponse>(bytes) {
        Ok(e) => {
            let target = e.error.target.map(|t| format!(" (field: {t})")).unwrap_or_default();
            anyhow::anyhow!("{} [{}]{}", e.error.message, e.error.code, target)
        }
        Err(_) => anyhow::anyhow!("the server answered {status}"),
    }
}

mod bytes_body {
    pub struct Body(pub Vec<u8>);

    impl Body {
        pub fn json<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
            serde_json::from_slice(&self.0).map_err(|e| anyhow::anyhow!("unexpected response from the server: {e}"))
        }
    }
}

/// Percent-encodes one path segment or query value, with the workspace's one encoder.
pub fn seg(s: &str) -> String {
    atrium_core::percent::encode(s)
}

/// Asks before a destructive action, unless `--yes` was given.
pub fn confirm(yes: bool, what: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        bail!("{what}: this cannot be undone; pass --yes to confirm");
    }
    eprint!("{what}. This cannot be undone. Type 'yes' to continue: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() == "yes" { Ok(()) } else { bail!("cancelled") }
}

/// Reads a secret: from stdin when asked (for scripts), else from a prompt without echo.
pub fn read_secret(prompt: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    rpassword::prompt_password(prompt).context("reading the password (use --password-stdin in scripts)")
}
