//! Passkeys: registered per user (several), found by credential id (unique across the
//! deployment), renamed, used, removed (one, all of a user's, and with the user); ceremonies
//! taken exactly once (also by concurrent transactions) and purged after expiry.

use super::*;
use atrium_core::ids::{PasskeyCeremonyId, PasskeyId, UserId};
use atrium_core::model::{Passkey, PasskeyCeremony, PasskeyCeremonyKind};

conformance!(
    passkeys_are_listed_renamed_used_and_removed_per_user,
    passkey_credential_ids_are_unique,
    passkey_ceremonies_are_taken_once_and_purged,
);

fn passkey(u: &atrium_core::model::User, name: &str, credential_id: &[u8], at: Timestamp) -> Passkey {
    Passkey {
        id: PasskeyId::random(&rng()),
        tenant_id: u.tenant_id,
        user_id: u.id,
        name: name.into(),
        credential_id: credential_id.to_vec(),
        credential: b"{\"cred\":1}".to_vec(),
        created_at: at,
        last_used_at: None,
    }
}

async fn passkeys_are_listed_renamed_used_and_removed_per_user(store: Arc<dyn Store>) {
    let t = tenant("a");
    let (u, v, w) = (user(&t, "adele", "Adele"), user(&t, "bob", "Bob"), user(&t, "cy", "Cy"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for x in [&u, &v, &w] {
        tx.insert_user(x).await.unwrap();
    }
    let (p1, p2) = (passkey(&u, "Laptop", b"cred-1", ts()), passkey(&u, "Phone", b"cred-2", ts().plus_seconds(5)));
    let q = passkey(&v, "Key", b"cred-3", ts());
    for p in [&p2, &p1, &q, &passkey(&w, "W", b"cred-4", ts())] {
        tx.insert_passkey(p).await.unwrap();
    }
    // Oldest first, only the user's own.
    let names: Vec<String> = tx.list_passkeys(t.id, u.id).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    assert_eq!(tx.list_passkeys(TenantId::random(&rng()), u.id).await.unwrap().len(), 0, "another tenant's id finds nothing");
    let found = tx.find_passkey_by_credential_id(b"cred-3").await.unwrap().unwrap();
    assert_eq!((found.id, found.user_id, found.credential.as_slice()), (q.id, v.id, &b"{\"cred\":1}"[..]));
    assert!(tx.find_passkey_by_credential_id(b"nope").await.unwrap().is_none());
    // Rename and remove only through the owner.
    assert!(!tx.rename_passkey(t.id, v.id, p1.id, "Stolen").await.unwrap());
    assert!(tx.rename_passkey(t.id, u.id, p1.id, "Work laptop").await.unwrap());
    assert!(!tx.delete_passkey(t.id, v.id, p1.id).await.unwrap());
    // A sign-in stores the new counter and the time.
    assert!(tx.record_passkey_use(p2.id, b"{\"cred\":2}", ts().plus_seconds(60)).await.unwrap());
    let list = tx.list_passkeys(t.id, u.id).await.unwrap();
    assert_eq!(list[0].name, "Work laptop");
    assert_eq!((list[1].credential.as_slice(), list[1].last_used_at), (&b"{\"cred\":2}"[..], Some(ts().plus_seconds(60))));
    assert!(tx.delete_passkey(t.id, u.id, p1.id).await.unwrap());
    assert!(!tx.delete_passkey(t.id, u.id, p1.id).await.unwrap(), "gone");
    assert!(!tx.record_passkey_use(p1.id, b"x", ts()).await.unwrap(), "a removed passkey is not used");
    // An administrator's reset removes all of a user's; deleting a user removes theirs.
    assert_eq!(tx.delete_user_passkeys(u.id).await.unwrap(), 1);
    assert!(tx.list_passkeys(t.id, u.id).await.unwrap().is_empty());
    assert!(tx.delete_user(t.id, v.id).await.unwrap());
    assert!(tx.find_passkey_by_credential_id(b"cred-3").await.unwrap().is_none());
    assert_eq!(tx.list_passkeys(t.id, w.id).await.unwrap().len(), 1, "others keep theirs");
    tx.commit().await.unwrap();
}

async fn passkey_credential_ids_are_unique(store: Arc<dyn Store>) {
    let t = tenant("a");
    let (u, v) = (user(&t, "adele", "Adele"), user(&t, "bob", "Bob"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_user(&v).await.unwrap();
    tx.insert_passkey(&passkey(&u, "A", b"same", ts())).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_passkey(&passkey(&v, "B", b"same", ts())).await, Err(StoreError::Conflict)));
    drop(tx);
    // A passkey of an unknown user is refused by the schema.
    let mut tx = store.begin().await.unwrap();
    let ghost = user(&t, "ghost", "Ghost");
    assert!(matches!(tx.insert_passkey(&passkey(&ghost, "G", b"g", ts())).await, Err(StoreError::MissingReference)));
}

async fn passkey_ceremonies_are_taken_once_and_purged(store: Arc<dyn Store>) {
    let t = tenant("a");
    let u = user(&t, "adele", "Adele");
    let ceremony = |kind, tenant: Option<TenantId>, user: Option<UserId>, expires: Timestamp| PasskeyCeremony {
        id: PasskeyCeremonyId::random(&rng()),
        kind,
        tenant_id: tenant,
        user_id: user,
        state: b"state".to_vec(),
        created_at: ts(),
        expires_at: expires,
    };
    let reg = ceremony(PasskeyCeremonyKind::Registration, Some(t.id), Some(u.id), ts().plus_seconds(300));
    let sign_in = ceremony(PasskeyCeremonyKind::SignIn, None, None, ts().plus_seconds(300));
    let old = ceremony(PasskeyCeremonyKind::SignIn, Some(t.id), None, ts().plus_seconds(-1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    for c in [&reg, &sign_in, &old] {
        tx.insert_passkey_ceremony(c).await.unwrap();
    }
    assert_eq!(tx.take_passkey_ceremony(reg.id).await.unwrap().as_ref(), Some(&reg));
    assert!(tx.take_passkey_ceremony(reg.id).await.unwrap().is_none(), "taken once");
    assert!(tx.take_passkey_ceremony(PasskeyCeremonyId::random(&rng())).await.unwrap().is_none());
    // Purging removes the expired one only.
    assert_eq!(tx.purge_passkey_ceremonies(ts()).await.unwrap(), 1);
    assert!(tx.take_passkey_ceremony(old.id).await.unwrap().is_none());
    tx.commit().await.unwrap();

    // Two transactions take the same ceremony at once: exactly one gets it.
    let take = |id: PasskeyCeremonyId| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let got = tx.take_passkey_ceremony(id).await.unwrap();
            tx.commit().await.unwrap();
            got.is_some()
        })
    };
    let (a, b) = (take(sign_in.id), take(sign_in.id));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a ^ b, "exactly one of two concurrent takes wins ({a}, {b})");
}
