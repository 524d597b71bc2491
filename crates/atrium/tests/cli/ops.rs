//! Operations (issue 17) through the real binary: private files, SIGTERM, backup and restore.

use crate::server::{Server, atrium};
use crate::tempfile_dir;
use atrium_store::testing::{Backend, fresh_database};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

cli_tests!(data_dir_and_secret_files_are_private, backup_then_restore_into_a_fresh_database);

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The files whose modes matter: the data dir, the master key, the TLS keys, the SQLite files.
fn secret_files(srv: &Server, backend: Backend) -> Vec<PathBuf> {
    let mut v = vec![srv.data_dir.join("master.key"), srv.data_dir.join("tls").join("server-key.pem"), srv.data_dir.join("tls").join("ca-key.pem")];
    v.retain(|p| p.exists());
    assert_eq!(v.len(), 3, "master.key and the TLS keys exist: {v:?}");
    if backend == Backend::Sqlite {
        let db = atrium_store::backup::sqlite_path(srv.database_url()).unwrap();
        v.push(db.clone());
        v.extend([with_suffix(&db, "-wal"), with_suffix(&db, "-shm")].into_iter().filter(|p| p.exists()));
    }
    v
}

/// Sends SIGTERM and waits for the server to exit; returns whether it exited successfully.
async fn sigterm(srv: &mut Server) -> bool {
    let mut child = srv.child.take().unwrap();
    let ok = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
    assert!(ok);
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("atrium serve did not stop within 10 s of SIGTERM");
}

async fn data_dir_and_secret_files_are_private(backend: Backend) {
    // A fresh start: everything is created private.
    let mut srv = Server::start(backend).await;
    assert_eq!(mode(&srv.data_dir), 0o700);
    assert_eq!(mode(&srv.data_dir.join("tls")), 0o700);
    let files = secret_files(&srv, backend);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // SIGTERM stops it cleanly (exit status 0).
    assert!(sigterm(&mut srv).await, "atrium serve exited with an error after SIGTERM");

    // Files someone made readable are tightened at the next start, each named in a warning.
    chmod(&srv.data_dir, 0o755);
    // (A clean stop checkpointed SQLite's WAL, so -wal and -shm may be gone.)
    let files: Vec<PathBuf> = files.into_iter().filter(|f| f.exists()).collect();
    for f in &files {
        chmod(f, 0o644);
    }
    let args = ["keys", "rotate", "--data-dir", srv.data_dir.to_str().unwrap(), "--database-url", srv.database_url()];
    let out = atrium(&args, None, &[]);
    out.ok();
    assert_eq!(mode(&srv.data_dir), 0o700);
    assert!(out.stderr.contains(&srv.data_dir.display().to_string()), "{}", out.stderr);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
        assert!(out.stderr.contains(&f.display().to_string()) && out.stderr.contains("readable by other users"), "{} not named in:\n{}", f.display(), out.stderr);
    }
    // And `serve` starts on the tightened directory.
    let again = srv.restart().await;
    assert_eq!(again.client().get(format!("{}/readyz", again.url)).send().await.unwrap().status(), 200);
}

async fn backup_then_restore_into_a_fresh_database(backend: Backend) {
    let srv = Server::start(backend).await;
    let (data_dir, url) = (srv.data_dir.to_str().unwrap().to_owned(), srv.database_url().to_owned());
    // A tenant, a user with a password, an app with a key.
    let port = srv.url.rsplit(':').next().unwrap().to_owned();
    let out = atrium(&["quickstart", "--json", "--data-dir", &data_dir, "--database-url", &url], None, &[("ATRIUM_LISTEN", &format!("127.0.0.1:{port}"))]).ok();
    let q: Value = serde_json::from_str(out.trim()).unwrap();

    // Online, while the server runs.
    let dir = tempfile_dir("backup");
    let file = dir.join("atrium.backup");
    let out = atrium(&["backup", "--to", file.to_str().unwrap(), "--data-dir", &data_dir, "--database-url", &url], None, &[]).ok();
    assert!(out.contains(&format!("to {}", file.display())) && (out.contains(" KiB)") || out.contains(" MiB)")), "{out}");
    assert!(out.contains("master.key"), "the backup reminds to keep the master key: {out}");
    assert_eq!(mode(&file), 0o600);
    // It never overwrites a file.
    let again = atrium(&["backup", "--to", file.to_str().unwrap(), "--data-dir", &data_dir, "--database-url", &url], None, &[]);
    assert!(!again.success && again.stderr.contains("exists"), "{}", again.stderr);

    // Restore into a fresh database, with a fresh data dir holding the same master key.
    let fresh = fresh_database(backend).await;
    let new_dir = fresh.dir.join("data");
    std::fs::create_dir_all(&new_dir).unwrap();
    std::fs::copy(srv.data_dir.join("master.key"), new_dir.join("master.key")).unwrap();
    let new_data = new_dir.to_str().unwrap().to_owned();
    let restore = |force: bool| {
        let mut a = vec!["restore", "--from", file.to_str().unwrap(), "--data-dir", &new_data, "--database-url", &fresh.url];
        if force {
            a.push("--force");
        }
        atrium(&a, None, &[])
    };
    let out = restore(false).ok();
    assert!(out.contains("Restored"), "{out}");
    if backend == Backend::Sqlite {
        assert_eq!(mode(&atrium_store::backup::sqlite_path(&fresh.url).unwrap()), 0o600);
        // An existing database is replaced only when asked to...
        let refused = restore(false);
        assert!(!refused.success && refused.stderr.contains("--force"), "{}", refused.stderr);
    } else {
        let refused = restore(false);
        assert!(!refused.success && refused.stderr.contains("not empty"), "{}", refused.stderr);
    }

    let restored = Server::spawn(&new_dir, &fresh.url);
    if backend == Backend::Sqlite {
        // ...and never while a server uses it.
        let refused = restore(true);
        assert!(!refused.success && refused.stderr.contains("in use"), "{}", refused.stderr);
    }
    let http = restored.client();
    // The user signs in with the same password; the app gets a token with the same secret.
    let tenant = q["username"].as_str().unwrap().split('@').nth(1).unwrap().to_owned();
    let token = restored.sign_in(&http, &tenant, q["username"].as_str().unwrap(), q["password"].as_str().unwrap()).await;
    let me: Value = http.get(format!("{}/api/v1/me", restored.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["userPrincipalName"], q["username"]);
    let r = http
        .post(format!("{}/{}/oauth2/v2.0/token", restored.url, q["tenant_id"].as_str().unwrap()))
        .form(&[("grant_type", "client_credentials"), ("client_id", q["client_id"].as_str().unwrap()),
                ("client_secret", q["client_secret"].as_str().unwrap()), ("scope", &format!("{}/.default", q["client_id"].as_str().unwrap()))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let apps: Value = http
        .get(format!("{}/api/v1/tenants/{}/applications", restored.url, q["tenant_id"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(apps.to_string().contains(q["client_id"].as_str().unwrap()), "{apps}");
    drop(restored);
    drop(fresh);
}
