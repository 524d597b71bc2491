//! A real SMTP server for the mail tests: `interop/smtp_sink.py` (aiosmtpd from the test venv)
//! in its own process, writing each accepted message to a file.

use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct SmtpSink {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    /// Extra arguments, e.g. `--starttls CERT KEY`.
    args: Vec<String>,
}

/// The venv's Python: `ATRIUM_TEST_PYTHON` (set by scripts/test), else the venv that
/// `scripts/venv` creates or finds. Without it the test fails: a mail test that cannot reach a
/// real SMTP server must not pass.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("ATRIUM_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/venv");
    let out = std::process::Command::new("bash").arg(script).output().expect("run scripts/venv");
    assert!(out.status.success(), "scripts/venv failed: {}", String::from_utf8_lossy(&out.stderr));
    let venv = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned();
    PathBuf::from(venv).join("bin/python")
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a sink with extra arguments (`--starttls CERT KEY` or `--tls CERT KEY`).
    pub async fn start_with(args: &[String]) -> Self {
        let dir = std::env::temp_dir().join(format!("atrium-smtp-{}", uuid_like()));
        let mut s = SmtpSink { child: None, port: 0, dir, args: args.to_vec() };
        s.spawn(0).await;
        s
    }

    async fn spawn(&mut self, port: u16) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../interop/smtp_sink.py");
        let mut child = Command::new(python())
            .arg("-u")
            .arg(script)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--port")
            .arg(port.to_string())
            .args(&self.args)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the SMTP sink did not start within 30 s")
            .unwrap()
            .expect("the SMTP sink exited");
        self.port = line.strip_prefix("LISTENING ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("unexpected sink output: {line}"));
        self.child = Some(child);
    }

    /// Stops the server (connections are refused from now on).
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.unwrap();
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let port = self.port;
        self.spawn(port).await;
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(d) => d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }

    /// Waits until at least `n` messages have arrived (or fails after 20 s).
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} messages, got {}", self.messages().len());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// The redemption link of a mail (its plain-text part is quoted-printable or 7bit).
pub fn redeem_link(mail: &str) -> String {
    let flat = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let path = flat.find("/invitations/redeem?token=").expect("a link in the mail");
    let start = flat[..path].rfind("https://").expect("an absolute link");
    let tail = &flat[start..];
    let link: String = tail.chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<').collect();
    assert!(link.contains("token=inv_"), "{link}");
    link
}
