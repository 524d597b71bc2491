//! The [`Store`] port on SQLite (the embedded default) and PostgreSQL (scale-out).
//!
//! Both backends run the same SQL text: `common.rs` is compiled once per backend with `Db` set
//! to the backend's sqlx database type, so a query is written once and type-checked twice.
//! Only the DDL differs, in `migrations/sqlite` and `migrations/postgres`, kept in lockstep.

pub mod backup;
mod migrate;
mod postgres;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use atrium_core::ports::{Store, StoreError};
use std::sync::Arc;

pub use migrate::MIGRATION_NAMES;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Opens the database at `url` (`sqlite://path` or `postgres://...`) and applies pending
/// migrations when `migrate` is set.
pub async fn open(url: &str, migrate: bool) -> Result<Arc<dyn Store>, StoreError> {
    if is_postgres(url) {
        let s = PgStore::connect(url).await?;
        if migrate {
            s.migrate().await?;
        }
        Ok(Arc::new(s))
    } else if url.starts_with("sqlite:") {
        let s = SqliteStore::connect(url).await?;
        if migrate {
            s.migrate().await?;
        }
        Ok(Arc::new(s))
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL (expected sqlite://... or postgres://...): {}",
            redact_url(url)
        )))
    }
}

/// Applies pending migrations and returns the versions that were applied.
pub async fn migrate(url: &str) -> Result<Vec<i64>, StoreError> {
    if is_postgres(url) {
        PgStore::connect(url).await?.migrate().await
    } else {
        SqliteStore::connect(url).await?.migrate().await
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::MissingReference,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
