//! Partner accounts, members and activity.

use super::*;

conformance!(
    account_members_cascade_with_the_association,
    activity_is_listed_and_purged_after_30_days,
);

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
