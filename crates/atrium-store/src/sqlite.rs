//! SQLite: one writer connection and a pool of readers, in WAL mode.
//!
//! A single writer means write transactions never race to upgrade a lock (no SQLITE_BUSY on
//! commit), and WAL lets readers run beside it. `synchronous = FULL` makes every acknowledged
//! commit durable, even across a power loss.

use atrium_core::ports::{PoolStats, Store, StoreError, Tx};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Sqlite;

const MIGRATIONS: &[(i64, &str, &str)] = crate::migrate::migrations!("sqlite");

/// Takes the migration lock. SQLite serialises writers anyway, so there is nothing to do.
const MIGRATION_LOCK: Option<&str> = None;

/// SQLite keeps a transaction usable after a failed statement; nothing to probe.
const COMMIT_PROBE: Option<&str> = None;

/// How a mail claim locks its rows: SQLite has one writer, so claims are serialised already.
const CLAIM_LOCK: &str = "";

/// Text ranges and order: SQLite's default BINARY collation already compares code points.
const TEXT_ORDER: &str = "";

/// The position of a substring (0 when absent).
const CONTAINS_FN: &str = "instr";

include!("sql/base.rs");

pub struct SqliteStore {
    writer: sqlx::Pool<Db>,
    readers: sqlx::Pool<Db>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(dir) = opts.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(map_err)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        Ok(Self { writer, readers })
    }

    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        run_migrations(&self.writer).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(DbTx::Write(self.writer.begin().await.map_err(map_err)?)))
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(DbTx::Read(self.readers.acquire().await.map_err(map_err)?)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.readers).await.map_err(map_err).map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![stats("writer", &self.writer), stats("readers", &self.readers)]
    }

    async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}
