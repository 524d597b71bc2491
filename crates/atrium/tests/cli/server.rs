//! Runs `atrium serve` as a child process and drives the `atrium` binary.

use atrium_store::testing::{Backend, TestDatabase, fresh_database};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_atrium");

pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn ok(&self) -> String {
        assert!(self.success, "atrium failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self.stdout.clone()
    }
}

/// Runs the CLI with optional standard input and extra environment.
pub fn atrium(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn atrium");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    Output { success: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

pub struct Server {
    pub child: Option<Child>,
    pub url: String,
    pub ca: PathBuf,
    pub owner_upn: String,
    /// Empty when this start printed no credentials.
    pub owner_password: String,
    /// The `atrium login ...` command the first start prints (empty otherwise).
    pub login_hint: String,
    pub data_dir: PathBuf,
    pub db: Option<TestDatabase>,
    database_url: String,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let db = fresh_database(backend).await;
        let data_dir = db.dir.join("data");
        let url = db.url.clone();
        let mut s = Self::spawn(&data_dir, &url);
        s.db = Some(db);
        s
    }

    pub fn spawn(data_dir: &std::path::Path, database_url: &str) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap(), "--database-url", database_url])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn atrium serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let (mut url, mut ca, mut owner_upn, mut owner_password, mut login_hint) = (String::new(), PathBuf::new(), String::new(), String::new(), String::new());
        loop {
            let line = rx.recv_timeout(Duration::from_secs(60)).expect("atrium serve became ready within 60 s");
            if let Some(u) = line.strip_prefix("Atrium is listening on ") {
                url = u.trim().to_owned();
            } else if let Some(c) = line.strip_prefix("CA certificate: ") {
                ca = PathBuf::from(c.trim());
            } else if let Some(u) = line.trim().strip_prefix("username: ") {
                owner_upn = u.trim().to_owned();
            } else if let Some(p) = line.trim().strip_prefix("password: ") {
                owner_password = p.trim().to_owned();
            } else if line.trim().starts_with("atrium login ") {
                login_hint = line.trim().to_owned();
            }
            if line.starts_with("Ready.") {
                break;
            }
        }
        Server { child: Some(child), url, ca, owner_upn, owner_password, login_hint, data_dir: data_dir.to_path_buf(), db: None, database_url: database_url.to_owned() }
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Child::kill sends SIGKILL on Unix: no shutdown hook runs.
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Starts the server again on the same data dir and database.
    pub async fn restart(&mut self) -> Server {
        self.kill9();
        let mut s = Self::spawn(&self.data_dir, &self.database_url);
        s.db = self.db.take();
        s
    }

    pub fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.ca).unwrap();
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap()
    }

    pub async fn sign_in(&self, http: &reqwest::Client, tenant: &str, user: &str, password: &str) -> String {
        let r = http
            .post(format!("{}/api/v1/sign-in", self.url))
            .json(&json!({"tenant": tenant, "username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// Signs in as the owner and replaces the one-time password.
    pub async fn owner_token(&self, http: &reqwest::Client, new_password: &str) -> String {
        let token = self.sign_in(http, "personal.onatrium.local", &self.owner_upn, &self.owner_password).await;
        let r = http
            .post(format!("{}/api/v1/me/password", self.url))
            .bearer_auth(&token)
            .json(&json!({"currentPassword": self.owner_password, "newPassword": new_password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        token
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
