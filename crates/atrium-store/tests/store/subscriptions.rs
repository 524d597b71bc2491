//! Subscriptions.

use super::*;

conformance!(subscription_coadmins_stay_in_the_trusted_directory, app_coadmins_stay_in_the_trusted_directory);

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

/// Applications as co-administrators (what a service principal sees through ARM): only
/// applications of the subscription's directory, and a directory change waits until they go.
async fn app_coadmins_stay_in_the_trusted_directory(store: Arc<dyn Store>) {
    use atrium_core::ids::{ApplicationId, ClientId, ServicePrincipalId, SubscriptionId};
    use atrium_core::model::{AppCoadmin, Application, Subscription, SubscriptionState, Tenant};
    let (personal, t, other) = (tenant("personal"), tenant("contoso"), tenant("fabrikam"));
    let owner = user(&personal, "owner", "Owner");
    let app = |tenant: &Tenant, name: &str| Application {
        id: ApplicationId::random(&rng()),
        client_id: ClientId::random(&rng()),
        service_principal_id: ServicePrincipalId::random(&rng()),
        tenant_id: tenant.id,
        display_name: DisplayName::parse(name, "x").unwrap(),
        reply_urls: vec![],
        app_id_uri: None,
        public_client: false,
        created_at: ts(),
        updated_at: ts(),
    };
    let (deployer, outsider) = (app(&t, "Deployer"), app(&other, "Outsider"));
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
    tx.insert_user(&owner).await.unwrap();
    tx.insert_application(&deployer).await.unwrap();
    tx.insert_application(&outsider).await.unwrap();
    tx.insert_subscription(&s).await.unwrap();
    let coadmin = |a: &Application, tenant: TenantId| AppCoadmin { subscription_id: s.id, tenant_id: tenant, application_id: a.id, added_by: owner.id, added_at: ts() };
    tx.insert_app_coadmin(&coadmin(&deployer, t.id)).await.unwrap();
    tx.commit().await.unwrap();
    for (a, tenant, want_conflict) in [(&deployer, t.id, true), (&outsider, other.id, false), (&outsider, t.id, false)] {
        let mut tx = store.begin().await.unwrap();
        let r = tx.insert_app_coadmin(&coadmin(a, tenant)).await;
        assert!(if want_conflict { matches!(r, Err(StoreError::Conflict)) } else { matches!(r, Err(StoreError::MissingReference)) }, "{r:?}");
    }
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.list_subscriptions_for_app(t.id, deployer.id).await.unwrap(), vec![s.clone()]);
    assert!(tx.list_subscriptions_for_app(other.id, deployer.id).await.unwrap().is_empty(), "another tenant's token sees nothing");
    assert!(tx.list_subscriptions_for_app(other.id, outsider.id).await.unwrap().is_empty());
    assert_eq!(tx.list_app_coadmins(s.id).await.unwrap(), vec![coadmin(&deployer, t.id)]);
    // Users' listings are not changed by application co-administrators.
    assert_eq!(tx.list_subscriptions_for_user(personal.id, owner.id).await.unwrap(), vec![s.clone()]);
    drop(tx);

    let moved = Subscription { directory_tenant_id: other.id, ..s.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.update_subscription(&moved).await, Err(StoreError::MissingReference)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_app_coadmin(s.id, outsider.id).await.unwrap());
    assert_eq!(tx.delete_app_coadmins(s.id).await.unwrap(), 1);
    assert!(tx.update_subscription(&moved).await.unwrap());
    tx.commit().await.unwrap();

    // Deleting the application removes it as co-administrator.
    let mut tx = store.begin().await.unwrap();
    tx.insert_app_coadmin(&coadmin(&outsider, other.id)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_application(other.id, outsider.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.list_app_coadmins(s.id).await.unwrap().is_empty());
}
