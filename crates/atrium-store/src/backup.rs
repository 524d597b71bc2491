//! Backup and restore of the SQLite database, and the checks the PostgreSQL path needs
//! (`atrium backup` / `atrium restore`; PostgreSQL itself goes through `pg_dump`/`pg_restore`).

use crate::{map_err, MIGRATION_NAMES};
use atrium_core::ports::StoreError;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

fn unavailable(m: String) -> StoreError {
    StoreError::Unavailable(m)
}

/// The database file a `sqlite://` URL names.
pub fn sqlite_path(url: &str) -> Result<PathBuf, StoreError> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| unavailable(format!("bad SQLite URL: {e}")))?;
    Ok(opts.get_filename().to_path_buf())
}

/// Creates `path` empty, readable by its owner only (0600); fails if it exists.
fn create_private(path: &Path) -> Result<std::fs::File, StoreError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", path.display())))
}

/// A consistent copy of the live SQLite database at `url` into the new file `to` (0600), while
/// the server runs: `VACUUM INTO` reads one snapshot, so writers are not blocked. Returns the
/// size of the copy.
pub async fn backup_sqlite(url: &str, to: &Path) -> Result<u64, StoreError> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| unavailable(format!("bad SQLite URL: {e}")))?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = opts.connect().await.map_err(map_err)?;
    // VACUUM INTO accepts an existing empty file and keeps its mode, so the copy is never
    // readable by others, not even for a moment.
    drop(create_private(to)?);
    let target = to.to_str().ok_or_else(|| unavailable(format!("{} is not a UTF-8 path", to.display())))?;
    let result = sqlx::query("VACUUM INTO $1").bind(target).execute(&mut conn).await;
    let _ = conn.close().await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(to);
        return Err(map_err(e));
    }
    std::fs::metadata(to).map(|m| m.len()).map_err(|e| unavailable(format!("{}: {e}", to.display())))
}

/// Whether a connection other than ours has the SQLite database open. Leaving WAL mode needs
/// every other connection gone; SQLite answers "database is locked" at once otherwise. (When
/// nobody uses it, this checkpoints the WAL into the file, which a restore replaces anyway.)
async fn sqlite_in_use(path: &Path) -> Result<bool, StoreError> {
    let opts = SqliteConnectOptions::new().filename(path).create_if_missing(false).busy_timeout(Duration::ZERO);
    let mut conn = opts.connect().await.map_err(map_err)?;
    let r = sqlx::query("PRAGMA journal_mode = DELETE").fetch_one(&mut conn).await;
    let _ = conn.close().await;
    match r {
        Ok(row) => Ok(row.try_get::<String, _>(0).map(|m| !m.eq_ignore_ascii_case("delete")).unwrap_or(true)),
        Err(sqlx::Error::Database(e)) if e.message().contains("locked") || e.message().contains("busy") => Ok(true),
        Err(e) => Err(map_err(e)),
    }
}

/// Checks that `path` is an intact Atrium database this version can run.
async fn check_backup(path: &Path) -> Result<(), StoreError> {
    let opts = SqliteConnectOptions::new().filename(path).create_if_missing(false);
    let mut conn = opts.connect().await.map_err(|e| unavailable(format!("{} is not a SQLite database: {e}", path.display())))?;
    let result = async {
        let ok: String = sqlx::query("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(map_err)?.try_get(0).map_err(map_err)?;
        if ok != "ok" {
            return Err(unavailable(format!("the backup is damaged: {ok}")));
        }
        let newest: Option<i64> = sqlx::query("SELECT MAX(version) FROM atrium_migrations")
            .fetch_one(&mut conn)
            .await
            .map_err(|_| unavailable("the file is not an Atrium database (no atrium_migrations table)".into()))?
            .try_get(0)
            .map_err(map_err)?;
        let known = MIGRATION_NAMES.last().map_or(0, |(v, _)| *v);
        match newest {
            None => Err(unavailable("the file is not an Atrium database (no migrations applied)".into())),
            Some(v) if v > known => Err(unavailable(format!("the backup was made by a newer Atrium (schema {v}; this one knows {known})"))),
            Some(_) => Ok(()),
        }
    }
    .await;
    let _ = conn.close().await;
    result
}

/// Why a restore was refused, so the CLI can say what to do.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0} exists. Stop the server, then run the restore again with --force to replace it")]
    Exists(PathBuf),
    #[error("{0} is in use (is the server running?). Stop every process that uses it first")]
    InUse(PathBuf),
    #[error("the database is not empty. Restore into a new, empty database (createdb)")]
    NotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Restores a SQLite backup (a file from [`backup_sqlite`]) as the database at `url`.
/// Refuses to replace an existing database unless `force`, and never while any process has it
/// open. The backup is checked (integrity, schema) before it replaces anything. Returns the
/// size of the restored database.
pub async fn restore_sqlite(from: &Path, url: &str, force: bool) -> Result<u64, RestoreError> {
    let target = sqlite_path(url)?;
    if target.exists() {
        if !force {
            return Err(RestoreError::Exists(target));
        }
        if sqlite_in_use(&target).await? {
            return Err(RestoreError::InUse(target));
        }
    } else if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
    }
    // Copy beside the target, check the copy, then rename it into place: a failure at any step
    // leaves the old database as it was.
    let mut tmp = target.clone().into_os_string();
    tmp.push(".restoring");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = async {
        let bytes = std::fs::read(from).map_err(|e| unavailable(format!("cannot read {}: {e}", from.display())))?;
        let mut f = create_private(&tmp)?;
        f.write_all(&bytes).and_then(|()| f.sync_all()).map_err(|e| unavailable(format!("writing {}: {e}", tmp.display())))?;
        drop(f);
        check_backup(&tmp).await?;
        for suffix in ["-wal", "-shm"] {
            let mut p = target.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        std::fs::rename(&tmp, &target).map_err(|e| unavailable(format!("cannot replace {}: {e}", target.display())))?;
        Ok::<u64, StoreError>(bytes.len() as u64)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}

/// Whether the PostgreSQL database at `url` holds no tables yet (a restore target).
pub async fn postgres_is_empty(url: &str) -> Result<bool, StoreError> {
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(map_err)?;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        .fetch_one(&mut conn)
        .await
        .map_err(map_err)?
        .try_get(0)
        .map_err(map_err)?;
    let _ = conn.close().await;
    Ok(n == 0)
}
