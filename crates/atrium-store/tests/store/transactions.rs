//! Migrations and transactions.

use super::*;

conformance!(
    migrations_are_idempotent,
    dropping_a_transaction_rolls_back,
    a_transaction_with_a_failed_statement_never_reports_a_commit,
);

#[test]
fn migration_folders_are_in_lockstep() {
    let list = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (list("sqlite"), list("postgres"));
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same files");
    let expected: Vec<String> =
        atrium_store::MIGRATION_NAMES.iter().map(|(v, n)| format!("{v:04}_{n}.sql")).collect();
    assert_eq!(sqlite, expected, "MIGRATION_NAMES must list every migration file");
}

async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    // `open` applied them; a second run applies nothing and keeps the data.
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.commit().await.unwrap();
    let url_backend = store.backend();
    assert!(url_backend == "sqlite" || url_backend == "postgres");
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_tenant(t.id).await.unwrap().unwrap(), t);
}

async fn dropping_a_transaction_rolls_back(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    {
        let mut tx = store.begin().await.unwrap();
        tx.insert_tenant(&t).await.unwrap();
        tx.insert_user(&u).await.unwrap();
        // dropped without commit
    }
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.get_tenant(t.id).await.unwrap().is_none());
    assert!(tx.get_user(t.id, u.id).await.unwrap().is_none());
}

async fn a_transaction_with_a_failed_statement_never_reports_a_commit(store: Arc<dyn Store>) {
    let (t, dup) = (tenant("contoso"), tenant("fabrikam"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&dup).await.unwrap();
    assert!(matches!(tx.insert_tenant(&t).await, Err(StoreError::Conflict)));
    // Whatever the backend does with the rest of the transaction, a commit that reports
    // success must have written it.
    let committed = tx.commit().await.is_ok();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_tenant(dup.id).await.unwrap().is_some(), committed);
}
