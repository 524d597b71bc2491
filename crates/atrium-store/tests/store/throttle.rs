//! Sign-in reservations (the lockout counter) and throttling counters.

use super::*;

conformance!(
    sign_in_reservations_lock_and_expire,
    concurrent_reservations_stop_at_the_threshold,
    throttle_hits_are_all_counted_per_window,
);

async fn sign_in_reservations_lock_and_expire(store: Arc<dyn Store>) {
    use atrium_core::ports::SignInReservation::{Busy, Granted, Locked};
    let t = tenant("contoso");
    let u = user(&t, "ann", "Ann");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();
    let now = ts();
    let lease = Timestamp::from_millis(T0 + 30_000);
    let until = Timestamp::from_millis(T0 + 60_000);
    let mut tx = store.begin().await.unwrap();
    // Three checks in flight fill a threshold of 3: a fourth must wait (nothing changes).
    for _ in 0..3 {
        assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, lease).await.unwrap(), Granted);
    }
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, lease).await.unwrap(), Busy);
    // A right password is not a failure and frees its slot; wrong ones count and lock at 3.
    assert_eq!(tx.finish_sign_in(t.id, u.id, true, 3, until).await.unwrap(), 0);
    assert_eq!(tx.finish_sign_in(t.id, u.id, false, 3, until).await.unwrap(), 1);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, lease).await.unwrap(), Granted);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, lease).await.unwrap(), Busy);
    assert_eq!(tx.finish_sign_in(t.id, u.id, false, 3, until).await.unwrap(), 2);
    assert_eq!(tx.finish_sign_in(t.id, u.id, false, 3, until).await.unwrap(), 3);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, now, 3, lease).await.unwrap(), Locked);
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (3, Some(until)));
    drop(tx);
    // Still locked up to the last millisecond; after it, the count starts again.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.reserve_sign_in(t.id, u.id, Timestamp::from_millis(T0 + 59_999), 3, lease).await.unwrap(), Locked);
    let later = Timestamp::from_millis(T0 + 60_000);
    let later_lease = Timestamp::from_millis(T0 + 90_000);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, later, 3, later_lease).await.unwrap(), Granted);
    assert_eq!(tx.finish_sign_in(t.id, u.id, false, 3, Timestamp::from_millis(T0 + 120_000)).await.unwrap(), 1);
    // A node that died mid-check: its slots are freed when the lease has passed.
    for _ in 0..2 {
        assert_eq!(tx.reserve_sign_in(t.id, u.id, later, 3, later_lease).await.unwrap(), Granted);
    }
    assert_eq!(tx.reserve_sign_in(t.id, u.id, Timestamp::from_millis(T0 + 89_999), 3, later_lease).await.unwrap(), Busy);
    let after_lease = Timestamp::from_millis(T0 + 90_000);
    assert_eq!(tx.reserve_sign_in(t.id, u.id, after_lease, 3, Timestamp::from_millis(T0 + 120_000)).await.unwrap(), Granted);
    assert_eq!(tx.finish_sign_in(t.id, u.id, true, 3, until).await.unwrap(), 0);
    tx.record_sign_in_success(t.id, u.id, after_lease).await.unwrap();
    // An unknown user is never granted a check.
    assert_eq!(tx.reserve_sign_in(t.id, atrium_core::ids::UserId::random(&rng()), later, 3, lease).await.unwrap(), Locked);
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until, stored.last_sign_in), (0, None, Some(after_lease)));
}

async fn concurrent_reservations_stop_at_the_threshold(store: Arc<dyn Store>) {
    use atrium_core::ports::SignInReservation::Granted;
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
                let r = tx.reserve_sign_in(tid, uid, ts(), 5, Timestamp::from_millis(T0 + 30_000)).await.unwrap();
                tx.commit().await.unwrap();
                r
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += usize::from(task.await.unwrap() == Granted);
    }
    assert_eq!(granted, 5);
    // Five wrong passwords then lock.
    let until = Timestamp::from_millis(T0 + 60_000);
    let mut tx = store.begin().await.unwrap();
    for _ in 0..5 {
        tx.finish_sign_in(t.id, u.id, false, 5, until).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let stored = tx.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_sign_ins, stored.locked_until), (5, Some(until)));
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
    // A refund takes one hit back, never below zero, and only in its own window.
    tx.throttle_refund("client_auth_client", "app-1", w1).await.unwrap();
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w1).await.unwrap(), 11);
    tx.throttle_refund("client_auth_client", "app-2", w1).await.unwrap();
    assert_eq!(tx.throttle_count("client_auth_client", "app-2", w1).await.unwrap(), 0);
    assert_eq!(tx.throttle_hit("sign_in_address", "10.0.0.1", w1, w2).await.unwrap(), 1);
    tx.throttle_refund("sign_in_address", "10.0.0.1", w1).await.unwrap();
    tx.throttle_refund("sign_in_address", "10.0.0.1", w1).await.unwrap();
    assert_eq!(tx.throttle_count("sign_in_address", "10.0.0.1", w1).await.unwrap(), 0);
    // Purging drops the windows that have ended, and only those.
    assert_eq!(tx.purge_throttle(Timestamp::from_millis(T0 + 60_001)).await.unwrap(), 2);
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w1).await.unwrap(), 0);
    assert_eq!(tx.throttle_count("client_auth_client", "app-1", w2).await.unwrap(), 1);
    tx.commit().await.unwrap();
}
