//! PostgreSQL: a connection pool per node. Every node is stateless, so any number of them can
//! share one database.

use atrium_core::ports::{PoolStats, Store, StoreError, Tx};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Postgres;

const MIGRATIONS: &[(i64, &str, &str)] = crate::migrate::migrations!("postgres");

/// Serialises concurrent `migrate` runs of several nodes (released at commit).
const MIGRATION_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(7355608)");

/// Fails if the transaction was aborted by an earlier error (see `commit`).
const COMMIT_PROBE: Option<&str> = Some("SELECT 1");

/// How a mail claim locks its rows: concurrent nodes skip rows another node is claiming.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";

/// Text ranges and order by code point, as SQLite and Rust compare, whatever the database's
/// default collation.
const TEXT_ORDER: &str = " COLLATE \"C\"";

/// The position of a substring (0 when absent).
const CONTAINS_FN: &str = "strpos";

include!("sql/base.rs");

pub struct PgStore {
    pool: sqlx::Pool<Db>,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
            .application_name("atrium");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        run_migrations(&self.pool).await
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(DbTx::Write(self.pool.begin().await.map_err(map_err)?)))
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        Ok(Box::new(DbTx::Read(self.pool.acquire().await.map_err(map_err)?)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map_err).map(|_| ())
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![stats("main", &self.pool)]
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
