//! The store conformance suite: every test runs against SQLite and against PostgreSQL, each in
//! a fresh database of its own. The test names end in `::sqlite` or `::postgres`.

// Tests may panic on unexpected values: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;

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
                let (db, store) = super::open(atrium_store::testing::Backend::Sqlite).await;
                super::$name(store).await;
                drop(db);
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (db, store) = super::open(atrium_store::testing::Backend::Postgres).await;
                super::$name(store).await;
                drop(db);
            }
        }
    )*};
}

conformance!(
    migrations_are_idempotent,
    tenants_round_trip_and_domains_are_unique,
    tenant_list_pages_and_searches,
    users_round_trip,
    upn_is_unique_per_tenant_case_insensitively,
    users_are_scoped_to_their_tenant,
    user_search_matches_upn_or_display_name_prefix,
    search_treats_like_wildcards_literally,
    user_pages_continue_after_the_cursor,
    groups_and_members,
    members_must_belong_to_the_groups_tenant,
    deleting_a_tenant_cascades,
    deleting_a_user_removes_memberships_and_sessions,
    sessions_round_trip_and_purge,
    sign_in_failures_lock_and_expire,
    concurrent_sign_in_failures_are_all_counted,
    meta_upserts,
    audit_is_listed_newest_first,
    dropping_a_transaction_rolls_back,
    a_transaction_with_a_failed_statement_never_reports_a_commit,
    account_members_cascade_with_the_association,
    activity_is_listed_and_purged_after_30_days,
    concurrent_mail_claims_never_share_a_mail,
    mail_leases_expire_and_finished_mail_loses_its_body,
    invitations_are_single_use,
    subscription_coadmins_stay_in_the_trusted_directory,
);

async fn open(backend: Backend) -> (TestDatabase, Arc<dyn Store>) {
    let db = fresh_database(backend).await;
    let store = atrium_store::open(&db.url, true).await.expect("open and migrate");
    (db, store)
}

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

async fn tenants_round_trip_and_domains_are_unique(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_tenant(t.id).await.unwrap().as_ref(), Some(&t));
    assert_eq!(tx.find_tenant_by_domain("contoso.onatrium.local").await.unwrap().as_ref(), Some(&t));
    assert!(tx.get_tenant(TenantId::random(&rng())).await.unwrap().is_none());
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let dup = tenant("contoso");
    assert!(matches!(tx.insert_tenant(&dup).await, Err(StoreError::Conflict)));
    drop(tx);

    let mut changed = t.clone();
    changed.display_name = DisplayName::parse("Contoso Ltd", "x").unwrap();
    changed.contact_email = None;
    changed.directory_sync = true;
    changed.updated_at = Timestamp::from_millis(T0 + 5);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_tenant(&changed).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_tenant(t.id).await.unwrap(), Some(changed));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_tenant(t.id).await.unwrap());
    assert!(!tx.delete_tenant(t.id).await.unwrap());
    tx.commit().await.unwrap();
}

async fn tenant_list_pages_and_searches(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    for p in ["delta", "alpha", "charlie", "bravo"] {
        tx.insert_tenant(&tenant(p)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let all = tx.list_tenants(&ListQuery::first(10)).await.unwrap();
    let domains: Vec<&str> = all.iter().map(|t| t.domain.as_str()).collect();
    assert_eq!(domains, ["alpha.onatrium.local", "bravo.onatrium.local", "charlie.onatrium.local", "delta.onatrium.local"]);
    let after = tx.list_tenants(&ListQuery { after: Some("bravo.onatrium.local".into()), ..ListQuery::first(1) }).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].domain.as_str(), "charlie.onatrium.local");
    // The display name is "Tenant <prefix>" in the fixtures.
    let by_name = tx.list_tenants(&ListQuery { prefix: Some("tenant ch".into()), ..ListQuery::first(10) }).await.unwrap();
    assert_eq!(by_name.len(), 1);
    let by_domain = tx.list_tenants(&ListQuery { prefix: Some("del".into()), ..ListQuery::first(10) }).await.unwrap();
    assert_eq!(by_domain[0].domain.as_str(), "delta.onatrium.local");
}

async fn users_round_trip(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut u = user(&t, "Adele.Vance", "Adele Vance");
    u.global_admin = true;
    u.recovery_email = Some(email("adele@example.com"));
    u.locked_until = Some(Timestamp::from_millis(T0 + 10));
    u.last_sign_in = Some(Timestamp::from_millis(T0 + 2));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&u));
    assert_eq!(tx.find_user_by_upn(t.id, "adele.vance@contoso.onatrium.local").await.unwrap().as_ref(), Some(&u));
    drop(tx);

    let mut v = u.clone();
    v.display_name = DisplayName::parse("Adele V.", "x").unwrap();
    v.enabled = false;
    v.must_change_password = true;
    v.mail = None;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_user(&v).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap(), Some(v));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(t.id, u.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.get_user(t.id, u.id).await.unwrap().is_none());
}

async fn upn_is_unique_per_tenant_case_insensitively(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    tx.insert_user(&user(&a, "ann", "Ann")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_user(&user(&a, "ANN", "Ann Two")).await, Err(StoreError::Conflict)));
    drop(tx);
    // The same alias in another tenant is another user.
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user(&b, "ann", "Ann")).await.unwrap();
    tx.commit().await.unwrap();

    // Renaming onto an existing UPN conflicts too.
    let mut tx = store.begin().await.unwrap();
    let bob = user(&a, "bob", "Bob");
    tx.insert_user(&bob).await.unwrap();
    tx.commit().await.unwrap();
    let mut renamed = bob.clone();
    renamed.upn = atrium_core::domain::Upn::parse("Ann@a.onatrium.local").unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.update_user(&renamed).await, Err(StoreError::Conflict)));
}

async fn users_are_scoped_to_their_tenant(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let ua = user(&a, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    tx.insert_user(&ua).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.get_user(b.id, ua.id).await.unwrap().is_none());
    assert!(tx.find_user_by_upn(b.id, "ann@a.onatrium.local").await.unwrap().is_none());
    assert!(!tx.delete_user(b.id, ua.id).await.unwrap());
    let mut moved = ua.clone();
    moved.tenant_id = b.id;
    assert!(!tx.update_user(&moved).await.unwrap(), "an update through another tenant must not touch the user");
    assert!(tx.list_users(b.id, &ListQuery::first(10)).await.unwrap().is_empty());
    // A user cannot be inserted into a tenant that does not exist.
    let ghost = tenant("ghost");
    assert!(matches!(tx.insert_user(&user(&ghost, "x", "X")).await, Err(StoreError::MissingReference)));
}

async fn user_search_matches_upn_or_display_name_prefix(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for (alias, name) in [("adele", "Adele Vance"), ("alex", "Alex Wilber"), ("megan", "Megan Bowen"), ("zed", "Adam Zed"), ("ünal", "Ünal Öz")] {
        tx.insert_user(&user_named(&t, alias, name)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let q = |p: &str| ListQuery { prefix: Some(p.to_lowercase()), ..ListQuery::first(50) };
    let names = |v: Vec<atrium_core::model::User>| v.into_iter().map(|u| u.upn.alias().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(tx.list_users(t.id, &q("ad")).await.unwrap()), ["adele", "zed"]);
    assert_eq!(names(tx.list_users(t.id, &q("A")).await.unwrap()), ["adele", "alex", "zed"]);
    assert_eq!(names(tx.list_users(t.id, &q("megan b")).await.unwrap()), ["megan"]);
    assert_eq!(names(tx.list_users(t.id, &q("Ünal")).await.unwrap()), ["unal"]);
    assert!(tx.list_users(t.id, &q("nobody")).await.unwrap().is_empty());
}

async fn search_treats_like_wildcards_literally(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&user(&t, "a_b", "A_b")).await.unwrap();
    tx.insert_user(&user(&t, "axb", "Axb")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let found = tx.list_users(t.id, &ListQuery { prefix: Some("a_".into()), ..ListQuery::first(10) }).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].upn.alias(), "a_b");
    let none = tx.list_users(t.id, &ListQuery { prefix: Some("%".into()), ..ListQuery::first(10) }).await.unwrap();
    assert!(none.is_empty());
}

async fn user_pages_continue_after_the_cursor(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for i in 0..25 {
        tx.insert_user(&user(&t, &format!("user{i:02}"), &format!("User {i:02}"))).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = tx.list_users(t.id, &ListQuery { after: after.clone(), ..ListQuery::first(10) }).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.upn.normalized());
        seen.extend(page.into_iter().map(|u| u.upn.alias().to_owned()));
    }
    let expected: Vec<String> = (0..25).map(|i| format!("user{i:02}")).collect();
    assert_eq!(seen, expected);
}

async fn groups_and_members(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let (ann, bob) = (user(&t, "ann", "Ann"), user(&t, "bob", "Bob"));
    let g = group(&t, "Engineering");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&ann).await.unwrap();
    tx.insert_user(&bob).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.add_group_member(t.id, g.id, bob.id, ts()).await.unwrap();
    tx.add_group_member(t.id, g.id, ann.id, ts()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_group(&group(&t, "ENGINEERING")).await, Err(StoreError::Conflict)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.add_group_member(t.id, g.id, ann.id, ts()).await, Err(StoreError::Conflict)));
    drop(tx);

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_group(t.id, g.id).await.unwrap().as_ref(), Some(&g));
    let members = tx.list_group_members(t.id, g.id, &ListQuery::first(10)).await.unwrap();
    assert_eq!(members.iter().map(|u| u.id).collect::<Vec<_>>(), [ann.id, bob.id]);
    assert_eq!(tx.list_user_groups(t.id, bob.id).await.unwrap(), vec![g.clone()]);
    let found = tx.list_groups(t.id, &ListQuery { prefix: Some("eng".into()), ..ListQuery::first(10) }).await.unwrap();
    assert_eq!(found, vec![g.clone()]);
    drop(tx);

    let mut renamed = g.clone();
    renamed.name = GroupName::parse("Platform", "x").unwrap();
    renamed.description = None;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_group(&renamed).await.unwrap());
    assert!(tx.remove_group_member(t.id, g.id, bob.id).await.unwrap());
    assert!(!tx.remove_group_member(t.id, g.id, bob.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_group(t.id, g.id).await.unwrap(), Some(renamed));
    assert_eq!(tx.list_group_members(t.id, g.id, &ListQuery::first(10)).await.unwrap().len(), 1);
    assert!(tx.delete_group(t.id, g.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.get_user(t.id, ann.id).await.unwrap().is_some(), "deleting a group keeps its members");
}

async fn members_must_belong_to_the_groups_tenant(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let ub = user(&b, "bob", "Bob");
    let ga = group(&a, "Team");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    tx.insert_user(&ub).await.unwrap();
    tx.insert_group(&ga).await.unwrap();
    tx.commit().await.unwrap();
    // The composite foreign key refuses a member from another tenant, whichever tenant is named.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.add_group_member(a.id, ga.id, ub.id, ts()).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.add_group_member(b.id, ga.id, ub.id, ts()).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.get_group(b.id, ga.id).await.unwrap().is_none());
}

async fn deleting_a_tenant_cascades(store: Arc<dyn Store>) {
    let (t, other) = (tenant("gone"), tenant("stays"));
    let u = user(&t, "ann", "Ann");
    let keep = user(&other, "ann", "Ann");
    let g = group(&t, "Team");
    let s = session(&u, "1");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_tenant(&other).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_user(&keep).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.add_group_member(t.id, g.id, u.id, ts()).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_tenant(t.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.get_user(t.id, u.id).await.unwrap().is_none());
    assert!(tx.get_group(t.id, g.id).await.unwrap().is_none());
    assert!(tx.get_session_by_token_hash(&s.token_hash).await.unwrap().is_none());
    assert!(tx.get_user(other.id, keep.id).await.unwrap().is_some());
}

async fn deleting_a_user_removes_memberships_and_sessions(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let g = group(&t, "Team");
    let s = session(&u, "2");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.add_group_member(t.id, g.id, u.id, ts()).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(t.id, u.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.list_group_members(t.id, g.id, &ListQuery::first(10)).await.unwrap().is_empty());
    assert!(tx.get_session_by_token_hash(&s.token_hash).await.unwrap().is_none());
}

async fn sessions_round_trip_and_purge(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let (s1, s2) = (session(&u, "a"), session(&u, "b"));
    let mut expired = session(&u, "c");
    expired.expires_at = Timestamp::from_millis(T0 - 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    for s in [&s1, &s2, &expired] {
        tx.insert_session(s).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_session_by_token_hash(&s1.token_hash).await.unwrap().as_ref(), Some(&s1));
    assert_eq!(tx.purge_expired_sessions(ts()).await.unwrap(), 1);
    assert_eq!(tx.delete_user_sessions(u.id, Some(s1.id)).await.unwrap(), 1);
    assert!(tx.get_session_by_token_hash(&s2.token_hash).await.unwrap().is_none());
    assert!(tx.get_session_by_token_hash(&s1.token_hash).await.unwrap().is_some());
    assert!(tx.delete_session(s1.id).await.unwrap());
    assert!(!tx.delete_session(SessionId::random(&rng())).await.unwrap());
    tx.commit().await.unwrap();
    let _: Session = s2;
}

async fn sign_in_failures_lock_and_expire(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    let now = ts();
    let until = Timestamp::from_millis(T0 + 60_000);
    let mut tx = store.begin().await.unwrap();
    for i in 1..=2 {
        let f = tx.record_sign_in_failure(t.id, u.id, now, 3, until).await.unwrap();
        assert_eq!((f.failed_sign_ins, f.locked_until), (i, None));
    }
    let f = tx.record_sign_in_failure(t.id, u.id, now, 3, until).await.unwrap();
    assert_eq!((f.failed_sign_ins, f.locked_until), (3, Some(until)));
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (3, Some(until)));
    drop(tx);
    // After the lock has expired, the count starts again.
    let later = Timestamp::from_millis(T0 + 60_001);
    let mut tx = store.begin().await.unwrap();
    let f = tx.record_sign_in_failure(t.id, u.id, later, 3, Timestamp::from_millis(T0 + 120_000)).await.unwrap();
    assert_eq!((f.failed_sign_ins, f.locked_until), (1, None));
    tx.record_sign_in_success(t.id, u.id, later).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until, stored.last_sign_in), (0, None, Some(later)));
}

async fn concurrent_sign_in_failures_are_all_counted(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            let (tid, uid) = (t.id, u.id);
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.record_sign_in_failure(tid, uid, ts(), 1000, Timestamp::from_millis(T0 + 1)).await.unwrap();
                tx.commit().await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap().unwrap().failed_sign_ins, 12);
}

async fn meta_upserts(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_meta("k").await.unwrap(), None);
    tx.put_meta("k", "1").await.unwrap();
    tx.put_meta("k", "2").await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_meta("k").await.unwrap().as_deref(), Some("2"));
}

async fn audit_is_listed_newest_first(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    let (e1, e2, e3) = (audit(Some(t.id), 1), audit(Some(t.id), 3), audit(None, 2));
    for e in [&e1, &e2, &e3] {
        tx.insert_audit(e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let f = |tenant: Option<TenantId>, limit: u32| AuditFilter { tenant_id: tenant, limit, ..Default::default() };
    assert_eq!(tx.list_audit(&f(Some(t.id), 10)).await.unwrap(), vec![e2.clone(), e1.clone()]);
    assert_eq!(tx.list_audit(&f(None, 10)).await.unwrap(), vec![e2.clone(), e3.clone(), e1.clone()]);
    assert_eq!(tx.list_audit(&f(None, 1)).await.unwrap().len(), 1);
    // Filters narrow by target and by time.
    let by_target = AuditFilter { target_id: Some("t3".into()), limit: 10, ..Default::default() };
    assert_eq!(tx.list_audit(&by_target).await.unwrap(), vec![e2.clone()]);
    let window = AuditFilter { from: Some(Timestamp::from_millis(T0 + 2)), to: Some(Timestamp::from_millis(T0 + 3)), limit: 10, ..Default::default() };
    assert_eq!(tx.list_audit(&window).await.unwrap(), vec![e3]);
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

fn account_of(owner: &atrium_core::model::User) -> atrium_core::model::Account {
    atrium_core::model::Account {
        id: atrium_core::ids::AccountId::random(&rng()),
        name: DisplayName::parse("Contoso Games", "x").unwrap(),
        account_type: atrium_core::model::AccountType::Company,
        program: atrium_core::access::Program::Developer,
        owner_tenant_id: owner.tenant_id,
        owner_user_id: owner.id,
        created_at: ts(),
        updated_at: ts(),
    }
}

async fn account_members_cascade_with_the_association(store: Arc<dyn Store>) {
    use atrium_core::model::{Member, PrincipalRef};
    let (personal, t, other) = (tenant("personal"), tenant("contoso"), tenant("fabrikam"));
    let owner = user(&personal, "owner", "Owner");
    let (ann, olga) = (user(&t, "ann", "Ann"), user(&other, "olga", "Olga"));
    let a = account_of(&owner);
    let mut tx = store.begin().await.unwrap();
    for x in [&personal, &t, &other] {
        tx.insert_tenant(x).await.unwrap();
    }
    for u in [&owner, &ann, &olga] {
        tx.insert_user(u).await.unwrap();
    }
    tx.insert_account(&a).await.unwrap();
    tx.associate_tenant(a.id, t.id, ts(), Some(owner.id)).await.unwrap();
    tx.commit().await.unwrap();
    // A failed statement ends the transaction on PostgreSQL, so each refusal gets its own.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.associate_tenant(a.id, t.id, ts(), None).await, Err(StoreError::Conflict)));
    drop(tx);
    let member = |u: &atrium_core::model::User| Member {
        account_id: a.id,
        tenant_id: u.tenant_id,
        principal: PrincipalRef::User(u.id),
        grant_json: r#"{"roles":["developer"],"permissions":[]}"#.into(),
        added_by: Some(owner.id),
        added_at: ts(),
        updated_at: ts(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_member(&member(&ann)).await.unwrap();
    tx.commit().await.unwrap();
    // A principal of a tenant that is not associated cannot be a member: the schema says so.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_member(&member(&olga)).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_member(&member(&ann)).await, Err(StoreError::Conflict)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.list_accounts_for_user(t.id, ann.id, &[]).await.unwrap(), vec![a.clone()]);
    assert!(tx.is_member_anywhere(PrincipalRef::User(ann.id)).await.unwrap());
    assert!(tx.remove_account_tenant(a.id, t.id).await.unwrap());
    tx.commit().await.unwrap();
    // R3: removing the tenant removes its principals' grants; the directory keeps the user.
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.list_members(a.id).await.unwrap().is_empty());
    assert!(tx.get_user(t.id, ann.id).await.unwrap().is_some());
}

async fn activity_is_listed_and_purged_after_30_days(store: Arc<dyn Store>) {
    use atrium_core::model::{Activity, PrincipalRef};
    let personal = tenant("personal");
    let owner = user(&personal, "owner", "Owner");
    let a = account_of(&owner);
    let day = 86_400_000;
    let row = |at: i64, route: &str| Activity {
        account_id: a.id,
        principal: PrincipalRef::User(owner.id),
        at: Timestamp::from_millis(at),
        method: "GET".into(),
        route: route.into(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&personal).await.unwrap();
    tx.insert_user(&owner).await.unwrap();
    tx.insert_account(&a).await.unwrap();
    tx.insert_activity(&[row(T0 - 31 * day, "/old"), row(T0 - day, "/recent"), row(T0, "/now")]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let since = Timestamp::from_millis(T0 - 30 * day);
    let recent: Vec<String> = tx.list_activity(a.id, PrincipalRef::User(owner.id), since, 10).await.unwrap().into_iter().map(|r| r.route).collect();
    assert_eq!(recent, ["/now", "/recent"]);
    assert_eq!(tx.last_activity(a.id).await.unwrap(), vec![(PrincipalRef::User(owner.id), ts())]);
    assert_eq!(tx.purge_activity(since).await.unwrap(), 1);
    assert_eq!(tx.list_activity(a.id, PrincipalRef::User(owner.id), Timestamp::from_millis(0), 10).await.unwrap().len(), 2);
    tx.commit().await.unwrap();
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

fn mail(i: usize, at: i64) -> atrium_core::model::Mail {
    use atrium_core::model::{Mail, MailStatus};
    Mail {
        id: atrium_core::ids::MailId::from_uuid(uuid::Uuid::new_v4()),
        to: atrium_core::domain::Email::parse(&format!("g{i}@example.com"), "to").unwrap(),
        subject: format!("Invitation {i}"),
        body_text: "link".into(),
        body_html: "<a>link</a>".into(),
        status: MailStatus::Queued,
        attempts: 0,
        next_attempt_at: Timestamp::from_millis(at),
        locked_until: None,
        last_error: None,
        created_at: Timestamp::from_millis(at),
        sent_at: None,
        invitation_id: None,
        account_id: None,
        tenant_id: None,
    }
}

/// Several workers (nodes) claiming at once never get the same mail, and together get all.
async fn concurrent_mail_claims_never_share_a_mail(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    for i in 0..60 {
        tx.insert_mail(&mail(i, T0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = Timestamp::from_millis(T0);
    let lease = now.plus_seconds(300);
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let mut tx = store.begin().await.unwrap();
                    let got = tx.claim_mail(now, lease, 4).await.unwrap();
                    tx.commit().await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|m| {
                        assert_eq!(m.attempts, 1);
                        m.id
                    }));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "some mail was claimed twice or not at all");
    assert_eq!(unique.len(), 60);
}

async fn mail_leases_expire_and_finished_mail_loses_its_body(store: Arc<dyn Store>) {
    use atrium_core::model::MailStatus;
    let (a, b) = (mail(1, T0), mail(2, T0 + 60_000));
    let mut tx = store.begin().await.unwrap();
    tx.insert_mail(&a).await.unwrap();
    tx.insert_mail(&b).await.unwrap();
    let now = Timestamp::from_millis(T0);
    // Only what is due is claimed.
    let got = tx.claim_mail(now, now.plus_seconds(300), 10).await.unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(got[0].status, MailStatus::Sending);
    // A claimed mail is not claimed again while its lease runs...
    assert!(tx.claim_mail(now.plus_seconds(100), now.plus_seconds(400), 10).await.unwrap().iter().all(|m| m.id != a.id));
    // ...but is once the lease has run out (its worker died), counting a second attempt.
    let again = tx.claim_mail(now.plus_seconds(301), now.plus_seconds(601), 10).await.unwrap();
    let again_a = again.iter().find(|m| m.id == a.id).unwrap();
    assert_eq!(again_a.attempts, 2);
    // A failure goes back to the queue for later, keeping the body.
    assert!(tx.finish_mail(b.id, MailStatus::Queued, now, now.plus_seconds(900), Some("421 try later")).await.unwrap());
    let b2 = tx.get_mail(b.id).await.unwrap().unwrap();
    assert_eq!((b2.status, b2.last_error.as_deref(), b2.body_text.as_str()), (MailStatus::Queued, Some("421 try later"), "link"));
    // Sent: the body (which held a link) is cleared; finishing twice does nothing.
    assert!(tx.finish_mail(a.id, MailStatus::Sent, now, now, None).await.unwrap());
    assert!(!tx.finish_mail(a.id, MailStatus::Sent, now, now, None).await.unwrap());
    let a2 = tx.get_mail(a.id).await.unwrap().unwrap();
    assert_eq!((a2.status, a2.body_text.as_str(), a2.body_html.as_str(), a2.sent_at), (MailStatus::Sent, "", "", Some(now)));
    assert_eq!(tx.list_mail(None, Some(MailStatus::Sent), 10).await.unwrap().len(), 1);
    assert_eq!(tx.list_mail(None, None, 10).await.unwrap().len(), 2);
    tx.commit().await.unwrap();
}

async fn invitations_are_single_use(store: Arc<dyn Store>) {
    use atrium_core::model::{Invitation, InvitationStatus};
    let t = tenant("contoso");
    let guest = user(&t, "guest", "Guest");
    let inv = Invitation {
        id: atrium_core::ids::InvitationId::from_uuid(uuid::Uuid::new_v4()),
        tenant_id: t.id,
        account_id: None,
        user_id: guest.id,
        email: atrium_core::domain::Email::parse("Guest@Example.com", "email").unwrap(),
        token_hash: [7; 32],
        status: InvitationStatus::Pending,
        redirect_url: None,
        invited_by: None,
        resend_count: 0,
        created_at: ts(),
        updated_at: ts(),
        expires_at: None,
        accepted_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&guest).await.unwrap();
    tx.insert_invitation(&inv).await.unwrap();
    tx.commit().await.unwrap();
    // One pending invitation per address and tenant, whatever the case.
    let dup = Invitation { id: atrium_core::ids::InvitationId::from_uuid(uuid::Uuid::new_v4()), token_hash: [8; 32], email: atrium_core::domain::Email::parse("guest@example.com", "email").unwrap(), ..inv.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_invitation(&dup).await, Err(StoreError::Conflict)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.find_invitation_by_token_hash(&[7; 32]).await.unwrap().unwrap(), inv);
    assert_eq!(tx.pending_invitation_of_user(guest.id).await.unwrap().unwrap().id, inv.id);
    // A stale hash (the link was resent) cannot accept; the current one can, once.
    assert!(!tx.accept_invitation(inv.id, &[9; 32], ts()).await.unwrap());
    assert!(tx.accept_invitation(inv.id, &[7; 32], ts()).await.unwrap());
    assert!(!tx.accept_invitation(inv.id, &[7; 32], ts()).await.unwrap());
    assert!(tx.pending_invitation_of_user(guest.id).await.unwrap().is_none());
    assert_eq!(tx.get_invitation(inv.id).await.unwrap().unwrap().status, InvitationStatus::Accepted);
    tx.commit().await.unwrap();
}

/// Seed 003: a subscription trusts one directory; its co-administrators are users of that
/// directory (the schema refuses others, and refuses a directory change while they remain).
async fn subscription_coadmins_stay_in_the_trusted_directory(store: Arc<dyn Store>) {
    use atrium_core::ids::{DirectoryRequestId, SubscriptionId};
    use atrium_core::model::{Coadmin, DirectoryRequest, Subscription, SubscriptionState};
    let (personal, t, other) = (tenant("personal"), tenant("contoso"), tenant("fabrikam"));
    let owner = user(&personal, "owner", "Owner");
    let ann = atrium_core::model::User { mail: Some(email("Ann.Mail@Contoso.com")), ..user(&t, "ann", "Ann") };
    let olga = user(&other, "olga", "Olga");
    let s = Subscription {
        id: SubscriptionId::random(&rng()),
        name: DisplayName::parse("Pay-As-You-Go", "x").unwrap(),
        owner_tenant_id: personal.id,
        owner_user_id: owner.id,
        state: SubscriptionState::Active,
        directory_tenant_id: t.id,
        created_at: ts(),
        updated_at: ts(),
    };
    let mut tx = store.begin().await.unwrap();
    for x in [&personal, &t, &other] {
        tx.insert_tenant(x).await.unwrap();
    }
    for u in [&owner, &ann, &olga] {
        tx.insert_user(u).await.unwrap();
    }
    tx.insert_subscription(&s).await.unwrap();
    let coadmin = |u: &atrium_core::model::User, tenant: TenantId| Coadmin { subscription_id: s.id, tenant_id: tenant, user_id: u.id, added_by: owner.id, added_at: ts() };
    tx.insert_coadmin(&coadmin(&ann, t.id)).await.unwrap();
    tx.commit().await.unwrap();
    for (u, tenant, want_conflict) in [(&ann, t.id, true), (&olga, other.id, false), (&olga, t.id, false)] {
        let mut tx = store.begin().await.unwrap();
        let r = tx.insert_coadmin(&coadmin(u, tenant)).await;
        assert!(if want_conflict { matches!(r, Err(StoreError::Conflict)) } else { matches!(r, Err(StoreError::MissingReference)) }, "{r:?}");
    }
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_subscription(s.id).await.unwrap().as_ref(), Some(&s));
    assert_eq!(tx.list_subscriptions_for_user(t.id, ann.id).await.unwrap(), vec![s.clone()]);
    assert_eq!(tx.list_subscriptions_for_user(personal.id, owner.id).await.unwrap(), vec![s.clone()]);
    assert!(tx.list_subscriptions_for_user(other.id, olga.id).await.unwrap().is_empty());
    let listed = tx.list_coadmins(s.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].0.user_id, &listed[0].1.upn), (ann.id, &ann.upn));
    assert_eq!(tx.find_users_by_mail(t.id, "ann.mail@contoso.com", 2).await.unwrap().len(), 1);
    assert!(tx.find_users_by_mail(other.id, "ann.mail@contoso.com", 2).await.unwrap().is_empty());
    drop(tx);

    // The directory cannot change while the old co-administrators remain, nor be deleted.
    let moved = Subscription { directory_tenant_id: other.id, ..s.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.update_subscription(&moved).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.delete_tenant(t.id).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.delete_coadmins(s.id).await.unwrap(), 1);
    assert!(tx.update_subscription(&moved).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_subscription(s.id).await.unwrap().unwrap().directory_tenant_id, other.id);
    drop(tx);

    // Directory requests: consent once, usable until they expire.
    let r = DirectoryRequest {
        id: DirectoryRequestId::random(&rng()),
        subscription_id: s.id,
        tenant_id: t.id,
        code_hash: atrium_core::secret::sha256(b"code"),
        requested_by: owner.id,
        created_at: ts(),
        expires_at: Timestamp::from_millis(T0 + 3_600_000),
        consented_by: None,
        consented_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_directory_request(&r).await.unwrap();
    assert_eq!(tx.find_directory_request_by_code(&r.code_hash).await.unwrap().as_ref(), Some(&r));
    assert!(tx.find_consented_directory_request(s.id, t.id, ts()).await.unwrap().is_none());
    let later = Timestamp::from_millis(T0 + 1000);
    assert!(tx.consent_directory_request(r.id, ann.id, later).await.unwrap());
    assert!(!tx.consent_directory_request(r.id, ann.id, later).await.unwrap(), "consent is single use");
    let consented = tx.find_consented_directory_request(s.id, t.id, later).await.unwrap().unwrap();
    assert_eq!((consented.consented_by, consented.consented_at), (Some(ann.id), Some(later)));
    assert!(tx.find_consented_directory_request(s.id, t.id, r.expires_at).await.unwrap().is_none(), "expired");
    assert_eq!(tx.delete_directory_requests(s.id).await.unwrap(), 1);
    tx.commit().await.unwrap();
}
