//! `atrium backup` and `atrium restore`: on the server's machine, with direct database access
//! (like `migrate`). SQLite is copied online with `VACUUM INTO`; PostgreSQL goes through
//! `pg_dump`/`pg_restore` (custom format).

use crate::server::{ConfigArgs, load};
use anyhow::{Context, bail};
use atrium_store::backup::{RestoreError, backup_sqlite, postgres_is_empty, restore_sqlite};
use clap::Args;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The file to write (it must not exist; it is created readable by you only).
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A file written by `atrium backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// SQLite: replace an existing database (the server must be stopped).
    #[arg(long)]
    pub force: bool,
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Sizes as people read them.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

pub async fn backup(a: BackupArgs) -> anyhow::Result<()> {
    let cfg = load(&a.config)?;
    crate::server::init_tracing("warn");
    let url = cfg.database_url();
    if a.to.exists() {
        bail!("{} exists; choose a new file name", a.to.display());
    }
    let size = if is_postgres(&url) {
        pg_dump(&url, &a.to).await?
    } else {
        backup_sqlite(&url, &a.to).await.with_context(|| format!("backing up {}", atrium_store::redact_url(&url)))?
    };
    println!("Backed up {} to {} ({}).", atrium_store::redact_url(&url), a.to.display(), human(size));
    match &cfg.master_key {
        Some(_) => println!("The token-signing keys in it are encrypted with master_key: keep that key too, apart from the backup."),
        None => println!(
            "The token-signing keys in it are encrypted with {}: keep a copy of that file too, apart from the backup.",
            cfg.data_dir.join("master.key").display()
        ),
    }
    Ok(())
}

pub async fn restore(a: RestoreArgs) -> anyhow::Result<()> {
    let cfg = load(&a.config)?;
    crate::server::init_tracing("warn");
    let url = cfg.database_url();
    if !a.from.is_file() {
        bail!("{} is not a file", a.from.display());
    }
    let size = if is_postgres(&url) {
        if !postgres_is_empty(&url).await.with_context(|| format!("connecting to {}", atrium_store::redact_url(&url)))? {
            return Err(RestoreError::NotEmpty.into());
        }
        pg_restore(&a.from, &url).await?;
        std::fs::metadata(&a.from).map(|m| m.len()).unwrap_or(0)
    } else {
        restore_sqlite(&a.from, &url, a.force).await?
    };
    println!("Restored {} into {} ({}).", a.from.display(), atrium_store::redact_url(&url), human(size));
    println!("Start the server with the same master key (master.key or master_key) as the backed-up one.");
    Ok(())
}

/// libpq takes the URL as is, except that its password would show in the process list: it
/// goes in PGPASSWORD instead.
fn libpq_target(url: &str) -> (String, Option<String>) {
    let Some(s) = url.find("://") else { return (url.to_owned(), None) };
    let Some(at) = url[s + 3..].find('@').map(|i| i + s + 3) else { return (url.to_owned(), None) };
    let creds = &url[s + 3..at];
    match creds.split_once(':') {
        Some((user, pass)) => (format!("{}{user}{}", &url[..s + 3], &url[at..]), Some(percent_decode(pass))),
        None => (url.to_owned(), None),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pg_tool(name: &str, url: &str) -> tokio::process::Command {
    let (target, password) = libpq_target(url);
    let mut cmd = tokio::process::Command::new(name);
    cmd.arg(format!("--dbname={target}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd
}

fn not_installed(name: &str, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "{name} is not installed (or not on PATH). Install the PostgreSQL client tools of your server's major version \
             (e.g. `apt-get install postgresql-client`)"
        )
    } else {
        anyhow::anyhow!("cannot run {name}: {e}")
    }
}

/// `pg_dump --format=custom` straight into a new 0600 file; returns its size.
async fn pg_dump(url: &str, to: &Path) -> anyhow::Result<u64> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let out = match pg_tool("pg_dump", url).arg("--format=custom").stdin(Stdio::null()).stdout(Stdio::from(file)).stderr(Stdio::piped()).spawn() {
        Ok(child) => child.wait_with_output().await,
        Err(e) => Err(e),
    };
    let failed = match out {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(anyhow::anyhow!("pg_dump failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Some(not_installed("pg_dump", e)),
    };
    if let Some(e) = failed {
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    let f = std::fs::File::open(to).with_context(|| format!("reading {}", to.display()))?;
    f.sync_all().with_context(|| format!("syncing {}", to.display()))?;
    Ok(f.metadata()?.len())
}

/// `pg_restore` into the (empty) database, in one transaction: all or nothing.
async fn pg_restore(from: &Path, url: &str) -> anyhow::Result<()> {
    let out = pg_tool("pg_restore", url)
        .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"])
        .arg(from)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| not_installed("pg_restore", e))?;
    if !out.status.success() {
        bail!("pg_restore failed (nothing was restored): {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_leaves_the_command_line() {
        assert_eq!(
            super::libpq_target("postgres://u:p%40ss@h:5432/db"),
            ("postgres://u@h:5432/db".to_owned(), Some("p@ss".to_owned()))
        );
        assert_eq!(super::libpq_target("postgres://u@h/db"), ("postgres://u@h/db".to_owned(), None));
    }
}
