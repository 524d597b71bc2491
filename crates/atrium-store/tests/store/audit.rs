//! The audit log.

use super::*;

conformance!(audit_is_listed_newest_first);

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
