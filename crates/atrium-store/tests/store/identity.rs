//! Sessions and deployment settings.

use super::*;

conformance!(sessions_round_trip_and_purge, meta_upserts);

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

async fn meta_upserts(store: Arc<dyn Store>) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_meta("k").await.unwrap(), None);
    tx.put_meta("k", "1").await.unwrap();
    tx.put_meta("k", "2").await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_meta("k").await.unwrap().as_deref(), Some("2"));
}
