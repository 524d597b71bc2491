//! The store conformance suite: every test runs against SQLite and against PostgreSQL, each in
//! a fresh database of its own. One module per area of the store (as `src/sql/<area>.rs`); the
//! test names are `<area>::<test>::sqlite` or `::postgres`.

// Tests may panic on unexpected values: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use atrium_core::audit::AuditFilter;
use atrium_core::domain::{DisplayName, GroupName};
use atrium_core::ids::{SessionId, TenantId};
use atrium_core::model::Session;
use atrium_core::page::ListQuery;
use atrium_core::ports::{Store, StoreError};
use atrium_core::time::Timestamp;
use atrium_store::testing::{Backend, TestDatabase, fresh_database};
use fixtures::*;
use std::sync::Arc;

/// Generates `<name>::sqlite` and `<name>::postgres` from one `async fn <name>(store)`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (db, store) = crate::open(atrium_store::testing::Backend::Sqlite).await;
                super::$name(store).await;
                drop(db);
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (db, store) = crate::open(atrium_store::testing::Backend::Postgres).await;
                super::$name(store).await;
                drop(db);
            }
        }
    )*};
}

mod fixtures;

mod accounts;
mod app_roles;
mod audit;
mod directory;
mod identity;
mod invitations;
mod mail;
mod mfa;
mod passkeys;
mod provisioning;
mod query;
mod subscriptions;
mod throttle;
mod transactions;

async fn open(backend: Backend) -> (TestDatabase, Arc<dyn Store>) {
    let db = fresh_database(backend).await;
    let store = atrium_store::open(&db.url, true).await.expect("open and migrate");
    (db, store)
}
