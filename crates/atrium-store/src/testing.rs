//! Fresh databases for tests: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `ATRIUM_TEST_DATABASE_URL`. Every test gets its own, so
//! tests run in parallel without seeing each other's rows.

use std::path::PathBuf;

/// The backends every suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database. The SQLite directory is removed on drop; PostgreSQL test
/// databases are dropped by the test script at the end of the run.
pub struct TestDatabase {
    pub url: String,
    pub dir: PathBuf,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The PostgreSQL server for tests. There is no silent skip: without it the PostgreSQL half of
/// every suite fails, so a run can never pass while testing only one backend.
pub fn postgres_admin_url() -> String {
    match std::env::var("ATRIUM_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "ATRIUM_TEST_DATABASE_URL is not set. The PostgreSQL half of the suite cannot run without it. \
             Run ./scripts/test, which finds or starts PostgreSQL, or set it to e.g. postgres://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atrium-test-{tag}-{}", uuid::Uuid::new_v4().simple()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

pub async fn fresh_database(backend: Backend) -> TestDatabase {
    let dir = temp_dir(match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "pg",
    });
    match backend {
        Backend::Sqlite => TestDatabase { url: format!("sqlite://{}", dir.join("atrium.db").display()), dir },
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = postgres_admin_url();
            let name = format!("atrium_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = match sqlx::PgConnection::connect(&admin).await {
                Ok(c) => c,
                Err(e) => panic!("cannot connect to PostgreSQL at {}: {e}", crate::redact_url(&admin)),
            };
            if let Err(e) = sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await {
                panic!("cannot create test database {name}: {e}");
            }
            let _ = conn.close().await;
            TestDatabase { url: with_database(&admin, &name), dir }
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn swaps_the_database_name() {
        assert_eq!(super::with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(super::with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(super::with_database("postgres://u@h/p?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    }
}
