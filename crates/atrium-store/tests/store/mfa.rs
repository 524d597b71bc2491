//! Multi-factor sign-in: TOTP authenticators (pending, confirmed, steps spent once), recovery
//! codes spent once (also by concurrent transactions), deletion, the tenant policy.

use super::*;
use atrium_core::model::TotpMethod;
use atrium_core::secret::sha256;

conformance!(
    totp_pending_confirm_and_steps_spent_once,
    recovery_codes_are_spent_once_even_concurrently,
    mfa_is_deleted_with_the_user_and_by_reset,
    mfa_policy_defaults_off_and_upserts,
    totp_secrets_are_sealed_once_and_listed_until_then,
);

fn pending(u: &atrium_core::model::User, secret: &[u8]) -> TotpMethod {
    TotpMethod { user_id: u.id, tenant_id: u.tenant_id, secret: secret.to_vec(), sealed: false, confirmed_at: None, last_step: 0, created_at: ts() }
}

async fn totp_pending_confirm_and_steps_spent_once(store: Arc<dyn Store>) {
    let t = tenant("a");
    let u = user(&t, "adele", "Adele");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    assert!(tx.get_totp(t.id, u.id).await.unwrap().is_none());
    assert!(tx.put_pending_totp(&pending(&u, b"first")).await.unwrap());
    // A pending set-up is replaced by a new one.
    assert!(tx.put_pending_totp(&pending(&u, b"second")).await.unwrap());
    assert_eq!(tx.get_totp(t.id, u.id).await.unwrap().unwrap().secret, b"second");
    // Spending a step needs a confirmed authenticator.
    assert!(!tx.use_totp_step(u.id, 100).await.unwrap());
    assert!(tx.confirm_totp(u.id, 100, ts()).await.unwrap());
    assert!(!tx.confirm_totp(u.id, 101, ts()).await.unwrap(), "confirmed once");
    let m = tx.get_totp(t.id, u.id).await.unwrap().unwrap();
    assert_eq!((m.confirmed_at, m.last_step), (Some(ts()), 100));
    // A confirmed authenticator is never overwritten by a new set-up.
    assert!(!tx.put_pending_totp(&pending(&u, b"third")).await.unwrap());
    assert_eq!(tx.get_totp(t.id, u.id).await.unwrap().unwrap().secret, b"second");
    // Steps only move forward: the same step or an older one is refused.
    assert!(!tx.use_totp_step(u.id, 100).await.unwrap());
    assert!(!tx.use_totp_step(u.id, 99).await.unwrap());
    assert!(tx.use_totp_step(u.id, 102).await.unwrap());
    assert!(!tx.use_totp_step(u.id, 101).await.unwrap());
    // Another tenant's id finds nothing.
    assert!(tx.get_totp(TenantId::random(&rng()), u.id).await.unwrap().is_none());
    tx.commit().await.unwrap();
}

async fn recovery_codes_are_spent_once_even_concurrently(store: Arc<dyn Store>) {
    let t = tenant("a");
    let u = user(&t, "adele", "Adele");
    let hashes: Vec<[u8; 32]> = (0..10).map(|i| sha256(format!("code-{i}").as_bytes())).collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.replace_recovery_codes(t.id, u.id, &hashes).await.unwrap();
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 10);
    assert!(tx.use_recovery_code(u.id, &hashes[0], ts()).await.unwrap());
    assert!(!tx.use_recovery_code(u.id, &hashes[0], ts()).await.unwrap());
    assert!(!tx.use_recovery_code(u.id, &sha256(b"unknown"), ts()).await.unwrap());
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 9);
    tx.commit().await.unwrap();

    // Two transactions spend the same code at once: exactly one succeeds.
    let spend = |h: [u8; 32]| {
        let store = store.clone();
        let user = u.id;
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let won = tx.use_recovery_code(user, &h, ts()).await.unwrap();
            tx.commit().await.unwrap();
            won
        })
    };
    for h in &hashes[1..4] {
        let (a, b) = (spend(*h), spend(*h));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a ^ b, "exactly one of two concurrent uses wins ({a}, {b})");
    }
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 6);
    // New codes replace the old ones, used or not.
    tx.replace_recovery_codes(t.id, u.id, &hashes[..2]).await.unwrap();
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 2);
    tx.commit().await.unwrap();
}

async fn mfa_is_deleted_with_the_user_and_by_reset(store: Arc<dyn Store>) {
    let t = tenant("a");
    let (u, v) = (user(&t, "adele", "Adele"), user(&t, "bob", "Bob"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for x in [&u, &v] {
        tx.insert_user(x).await.unwrap();
        tx.put_pending_totp(&pending(x, b"s")).await.unwrap();
        tx.replace_recovery_codes(t.id, x.id, &[sha256(x.id.to_string().as_bytes())]).await.unwrap();
    }
    assert!(tx.delete_mfa(u.id).await.unwrap());
    assert!(!tx.delete_mfa(u.id).await.unwrap(), "nothing left to delete");
    assert!(tx.get_totp(t.id, u.id).await.unwrap().is_none());
    assert_eq!(tx.count_unused_recovery_codes(u.id).await.unwrap(), 0);
    // Deleting the user deletes their methods (foreign keys cascade).
    assert!(tx.delete_user(t.id, v.id).await.unwrap());
    assert!(tx.get_totp(t.id, v.id).await.unwrap().is_none());
    assert_eq!(tx.count_unused_recovery_codes(v.id).await.unwrap(), 0);
    tx.commit().await.unwrap();
}

async fn mfa_policy_defaults_off_and_upserts(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    assert!(!tx.get_mfa_policy(a.id).await.unwrap());
    tx.set_mfa_policy(a.id, true).await.unwrap();
    assert!(tx.get_mfa_policy(a.id).await.unwrap());
    assert!(!tx.get_mfa_policy(b.id).await.unwrap());
    tx.set_mfa_policy(a.id, false).await.unwrap();
    assert!(!tx.get_mfa_policy(a.id).await.unwrap());
    // An unknown tenant is refused by the schema.
    assert!(matches!(tx.set_mfa_policy(TenantId::random(&rng()), true).await, Err(StoreError::MissingReference)));
}

/// Rows written before secrets were sealed are listed until sealed; sealing is one conditional
/// UPDATE (a second one, e.g. another node's, changes nothing); a new set-up keeps its form.
async fn totp_secrets_are_sealed_once_and_listed_until_then(store: Arc<dyn Store>) {
    let t = tenant("a");
    let (a, b) = (user(&t, "adele", "Adele"), user(&t, "alex", "Alex"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&a).await.unwrap();
    tx.insert_user(&b).await.unwrap();
    assert!(tx.put_pending_totp(&pending(&a, b"raw-a")).await.unwrap());
    assert!(tx.put_pending_totp(&TotpMethod { sealed: true, ..pending(&b, b"sealed-b") }).await.unwrap());
    assert!(tx.confirm_totp(a.id, 100, ts()).await.unwrap());
    let raw = tx.list_unsealed_totp(10).await.unwrap();
    assert_eq!(raw.iter().map(|m| (m.user_id, m.secret.clone(), m.sealed)).collect::<Vec<_>>(), vec![(a.id, b"raw-a".to_vec(), false)]);
    assert_eq!(raw[0].confirmed_at, Some(ts()));
    assert!(tx.get_totp(t.id, b.id).await.unwrap().unwrap().sealed);
    assert!(tx.seal_totp_secret(a.id, b"sealed-a").await.unwrap());
    assert!(!tx.seal_totp_secret(a.id, b"sealed-again").await.unwrap(), "sealed once");
    let m = tx.get_totp(t.id, a.id).await.unwrap().unwrap();
    assert_eq!((m.secret.as_slice(), m.sealed, m.last_step), (&b"sealed-a"[..], true, 100));
    assert!(tx.list_unsealed_totp(10).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}
