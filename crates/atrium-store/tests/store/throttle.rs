//! Sign-in reservations (the lockout counter) and throttling counters.

use super::*;

conformance!(
    sign_in_reservations_lock_and_expire,
    concurrent_reservations_stop_at_the_threshold,
    throttle_hits_are_all_counted_per_window,
);

async fn sign_in_reservations_lock_and_expire(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    let now = ts();
    let until = Timestamp::from_millis(T0 + 60_000);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, until).await.unwrap(), Some(1));
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, until).await.unwrap(), Some(2));
    // The reservation that reaches the threshold locks at once.
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, until).await.unwrap(), Some(3));
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, until).await.unwrap(), None);
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (3, Some(until)));
    drop(tx);
    // Still locked up to the last millisecond; after it, the count starts again.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.reserve_sign_in(t.id, u.id, Timestamp::from_millis(T0 + 59_999), 3, until).await.unwrap(), None);
    let later = Timestamp::from_millis(T0 + 60_000);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, later, 3, Timestamp::from_millis(T0 + 120_000)).await.unwrap(), Some(1));
    tx.reset_sign_in_failures(t.id, u.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (0, None));
    drop(tx);
    // A success clears a lock too (the right password reserved the last check), and records
    // the sign-in; an unknown user is never reserved.
    let mut tx = store.begin().await.unwrap();
    for _ in 0..3 {
        tx.reserve_sign_in(t.id, u.id, later, 3, Timestamp::from_millis(T0 + 120_000)).await.unwrap();
    }
    tx.record_sign_in_success(t.id, u.id, later).await.unwrap();
    assert_eq!(tx.reserve_sign_in(t.id, atrium_core::ids::UserId::random(&rng()), later, 3, until).await.unwrap(), None);
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until, stored.last_sign_in), (0, None, Some(later)));
}

async fn concurrent_reservations_stop_at_the_threshold(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            let (tid, uid) = (t.id, u.id);
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let r = tx.reserve_sign_in(tid, uid, ts(), 5, Timestamp::from_millis(T0 + 60_000)).await.unwrap();
                tx.commit().await.unwrap();
                r
            })
        })
        .collect();
    let mut granted = Vec::new();
    for task in tasks {
        if let Some(n) = task.await.unwrap() {
            granted.push(n);
        }
    }
    granted.sort_unstable();
    assert_eq!(granted, vec![1, 2, 3, 4, 5]);
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (5, Some(Timestamp::from_millis(T0 + 60_000))));
}

async fn throttle_hits_are_all_counted_per_window(store: Arc<dyn Store>) {
    let w1 = Timestamp::from_millis(T0);
    let w2 = Timestamp::from_millis(T0 + 60_000);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let n = tx.throttle_hit("client_auth_client", "app-1", w1, w2).await.unwrap();
                tx.commit().await.unwrap();
                n
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=12).collect::<Vec<i64>>());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w1).await.unwrap(), 12);
    // Other keys, scopes and windows count apart.
    assert_eq!(tx.throttle_count("client_auth_client", "app-2", w1).await.unwrap(), 0);
    assert_eq!(tx.throttle_count("client_auth_address", "app-1", w1).await.unwrap(), 0);
    assert_eq!(tx.throttle_hit("client_auth_client", "app-1", w2, Timestamp::from_millis(T0 + 120_000)).await.unwrap(), 1);
    // Purging drops the windows that have ended, and only those.
    assert_eq!(tx.purge_throttle(Timestamp::from_millis(T0 + 60_001)).await.unwrap(), 1);
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w1).await.unwrap(), 0);
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w2).await.unwrap(), 1);
    tx.commit().await.unwrap();
}
