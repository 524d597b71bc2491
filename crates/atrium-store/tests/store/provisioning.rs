//! SCIM provisioning: tokens, what a source says about its users and groups, and the counts and
//! offsets SCIM's `totalResults` and `startIndex` are answered from.

use super::*;
use atrium_core::domain::PersonName;
use atrium_core::ids::{ProvisioningTokenId, UserId};
use atrium_core::model::{Group, ProvisionedEmail, ProvisionedGroup, ProvisionedUser, ProvisioningToken, Tenant, User};
use atrium_core::query::{Attr, DirectoryQuery, Filter, ObjectKind, Op, Order, Value};
use uuid::Uuid;

conformance!(
    tokens_insert_list_find_and_delete,
    provisioned_users_round_trip_and_clear,
    user_name_is_unique_per_tenant_case_insensitively,
    provisioned_groups_round_trip,
    counts_and_offsets_agree_with_the_evaluator,
    deleting_a_manager_clears_the_manager,
);

fn token(t: &Tenant, name: &str, created_offset: i64) -> ProvisioningToken {
    ProvisioningToken {
        id: ProvisioningTokenId::random(&rng()),
        tenant_id: t.id,
        name: name.into(),
        token_hash: atrium_core::secret::sha256(format!("{}-{name}", t.id).as_bytes()),
        created_by: Some(UserId::random(&rng())),
        created_at: Timestamp::from_millis(T0 + created_offset),
        expires_at: Timestamp::from_millis(T0 + created_offset + 86_400_000),
    }
}

/// A provisioned user as the services write one: `user_name` exactly as sent, no password.
fn provisioned(t: &Tenant, alias: &str, user_name: &str) -> User {
    let mut u = user(t, alias, alias);
    u.password_hash = None;
    u.provisioning = Some(ProvisionedUser { user_name: user_name.into(), ..ProvisionedUser::default() });
    u
}

async fn tokens_insert_list_find_and_delete(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let (first, second, other) = (token(&a, "Entra provisioning", 5), token(&a, "Okta", 9), token(&b, "HR", 1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    // Inserted out of order: the list is oldest first.
    for t in [&second, &other, &first] {
        tx.insert_provisioning_token(t).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.list_provisioning_tokens(a.id).await.unwrap(), [first.clone(), second.clone()]);
    assert_eq!(tx.list_provisioning_tokens(b.id).await.unwrap(), std::slice::from_ref(&other));
    assert_eq!(tx.find_provisioning_token(&second.token_hash).await.unwrap().as_ref(), Some(&second));
    assert_eq!(tx.find_provisioning_token(&other.token_hash).await.unwrap().as_ref(), Some(&other));
    assert!(tx.find_provisioning_token(&[7; 32]).await.unwrap().is_none());
    drop(tx);

    // The hash is unique: two tokens with one value could not be told apart.
    let mut tx = store.begin().await.unwrap();
    let dup = ProvisioningToken { id: ProvisioningTokenId::random(&rng()), ..first.clone() };
    assert!(matches!(tx.insert_provisioning_token(&dup).await, Err(StoreError::Conflict)));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    // Another tenant cannot revoke a token that is not its own.
    assert!(!tx.delete_provisioning_token(b.id, first.id).await.unwrap());
    assert!(tx.delete_provisioning_token(a.id, first.id).await.unwrap());
    assert!(!tx.delete_provisioning_token(a.id, first.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.find_provisioning_token(&first.token_hash).await.unwrap().is_none());
    assert_eq!(tx.list_provisioning_tokens(a.id).await.unwrap(), std::slice::from_ref(&second));
    drop(tx);

    // Deleting the tenant takes its tokens with it.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_tenant(a.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert!(tx.find_provisioning_token(&second.token_hash).await.unwrap().is_none());
    assert_eq!(tx.list_provisioning_tokens(b.id).await.unwrap(), [other]);
}

async fn provisioned_users_round_trip_and_clear(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let boss = provisioned(&t, "boss", "Boss@Contoso.com");
    let mut u = provisioned(&t, "adele", "Adele.Vance@Contoso.com");
    u.given_name = Some(PersonName::parse("Adele", "x").unwrap());
    u.surname = Some(PersonName::parse("Vance", "x").unwrap());
    u.provisioning = Some(ProvisionedUser {
        user_name: "Adele.Vance@Contoso.com".into(),
        external_id: Some("00aa-EXT".into()),
        title: Some("Product Manager".into()),
        department: Some("Retail".into()),
        employee_number: Some("E-1042".into()),
        manager: Some(boss.id),
        formatted_name: Some("Ms. Adele Vance".into()),
        emails: vec![
            ProvisionedEmail { value: "adele@contoso.com".into(), kind: Some("work".into()), primary: true, display: None },
            ProvisionedEmail { value: "adele@example.com".into(), kind: Some("home".into()), primary: false, display: Some("Home".into()) },
        ],
        active: Some(false),
    });
    u.enabled = false;
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&boss).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&u));
    assert_eq!(tx.get_user(t.id, boss.id).await.unwrap().as_ref(), Some(&boss));
    drop(tx);

    // A replace: fewer emails, no manager, `active` never sent (None is not false).
    let mut v = u.clone();
    v.enabled = true;
    v.updated_at = Timestamp::from_millis(T0 + 7);
    v.provisioning = Some(ProvisionedUser {
        user_name: "adele.vance@contoso.com".into(),
        emails: vec![ProvisionedEmail { value: "av@contoso.com".into(), kind: None, primary: false, display: None }],
        active: None,
        ..ProvisionedUser::default()
    });
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_user(&v).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&v));
    drop(tx);

    // Clearing: the user is no longer the source's, and its userName is free again.
    let mut w = v.clone();
    w.provisioning = None;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_user(&w).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&w));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&provisioned(&t, "adele2", "ADELE.VANCE@contoso.com")).await.unwrap();
    tx.commit().await.unwrap();
}

async fn user_name_is_unique_per_tenant_case_insensitively(store: Arc<dyn Store>) {
    let (a, b) = (tenant("a"), tenant("b"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&a).await.unwrap();
    tx.insert_tenant(&b).await.unwrap();
    tx.insert_user(&provisioned(&a, "ann", "Ann@Example.com")).await.unwrap();
    // Users that no source owns have no userName: any number of them.
    tx.insert_user(&user(&a, "plain1", "Plain One")).await.unwrap();
    tx.insert_user(&user(&a, "plain2", "Plain Two")).await.unwrap();
    tx.commit().await.unwrap();

    // Another sign-in name, the same userName in another case.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_user(&provisioned(&a, "ann2", "ann@EXAMPLE.COM")).await, Err(StoreError::Conflict)));
    drop(tx);
    // Beyond ASCII too: the store folds as the query model does.
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&provisioned(&a, "unal", "Ünal@Example.com")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_user(&provisioned(&a, "unal2", "ünal@example.com")).await, Err(StoreError::Conflict)));
    drop(tx);

    // The same userName in another tenant is another user.
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&provisioned(&b, "ann", "Ann@Example.com")).await.unwrap();
    tx.commit().await.unwrap();

    // Renaming onto a taken userName conflicts; keeping one's own in another case does not.
    let bob = provisioned(&a, "bob", "bob@example.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&bob).await.unwrap();
    tx.commit().await.unwrap();
    let mut renamed = bob.clone();
    renamed.provisioning = Some(ProvisionedUser { user_name: "ANN@example.com".into(), ..ProvisionedUser::default() });
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.update_user(&renamed).await, Err(StoreError::Conflict)));
    drop(tx);
    renamed.provisioning = Some(ProvisionedUser { user_name: "Bob@Example.com".into(), ..ProvisionedUser::default() });
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_user(&renamed).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_user(a.id, bob.id).await.unwrap(), Some(renamed));
    // The query model finds a userName case-insensitively, as the services' uniqueness check does.
    let q = DirectoryQuery::new(ObjectKind::User, Some(Filter::text(Attr::UserName, Op::Eq, "BOB@example.COM")), None, None, 5).unwrap();
    let hits = tx.query_users(a.id, &q).await.unwrap();
    assert_eq!(hits.iter().map(|u| u.id).collect::<Vec<_>>(), [bob.id]);
}

async fn provisioned_groups_round_trip(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut g = group(&t, "Sales");
    g.description = None;
    g.provisioning = Some(ProvisionedGroup { external_id: Some("grp-0042".into()) });
    let mut bare = group(&t, "Support");
    bare.provisioning = Some(ProvisionedGroup { external_id: None });
    let mine = group(&t, "Local team");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for x in [&g, &bare, &mine] {
        tx.insert_group(x).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_group(t.id, g.id).await.unwrap().as_ref(), Some(&g));
    // Provisioned without an externalId is still provisioned.
    assert_eq!(tx.get_group(t.id, bare.id).await.unwrap().as_ref(), Some(&bare));
    assert_eq!(tx.get_group(t.id, mine.id).await.unwrap().as_ref(), Some(&mine));
    let q = DirectoryQuery::new(ObjectKind::Group, Some(Filter::cmp(Attr::Provisioned, Op::Eq, Value::Bool(true))), None, None, 10).unwrap();
    let mut ids: Vec<_> = tx.query_groups(t.id, &q).await.unwrap().into_iter().map(|x| x.id).collect();
    ids.sort();
    let mut want = vec![g.id, bare.id];
    want.sort();
    assert_eq!(ids, want);
    drop(tx);

    let mut renamed = g.clone();
    renamed.name = GroupName::parse("Sales EMEA", "x").unwrap();
    renamed.provisioning = Some(ProvisionedGroup { external_id: Some("grp-0043".into()) });
    renamed.updated_at = Timestamp::from_millis(T0 + 3);
    let mut cleared = bare.clone();
    cleared.provisioning = None;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_group(&renamed).await.unwrap());
    assert!(tx.update_group(&cleared).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(tx.get_group(t.id, g.id).await.unwrap(), Some(renamed));
    assert_eq!(tx.get_group(t.id, bare.id).await.unwrap(), Some(cleared));
}

/// Provisioned users and groups with varied attributes, and some objects no source owns.
fn sample(t: &Tenant) -> (Vec<User>, Vec<Group>) {
    let users = (0..23)
        .map(|i| {
            let mut u = if i % 5 == 4 { user(t, &format!("local{i}"), &format!("Local {i}")) } else { provisioned(t, &format!("u{i}"), &format!("{}{i}@Example.com", ["Ann", "bob", "ZED", "ünal"][i % 4])) };
            if let Some(p) = u.provisioning.as_mut() {
                p.external_id = (i % 3 != 0).then(|| format!("ext-{}", i % 6));
                p.title = (i % 2 == 0).then(|| ["Engineer", "engineer", "Manager"][i % 3].to_owned());
            }
            u.enabled = i % 4 != 1;
            u.created_at = Timestamp::from_millis(T0 + (i % 5) as i64);
            u.updated_at = Timestamp::from_millis(T0 + (i % 7) as i64);
            u
        })
        .collect();
    let groups = (0..17)
        .map(|i| {
            let mut g = group(t, &format!("{} {i}", ["Sales", "sales ops", "Team"][i % 3]));
            g.provisioning = (i % 4 != 3).then(|| ProvisionedGroup { external_id: (i % 2 == 0).then(|| format!("g-{}", i % 5)) });
            g.updated_at = Timestamp::from_millis(T0 + (i % 6) as i64);
            g
        })
        .collect();
    (users, groups)
}

async fn counts_and_offsets_agree_with_the_evaluator(store: Arc<dyn Store>) {
    let (t, other) = (tenant("contoso"), tenant("fabrikam"));
    let (users, groups) = sample(&t);
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_tenant(&other).await.unwrap();
    for u in &users {
        tx.insert_user(u).await.unwrap();
    }
    for g in &groups {
        tx.insert_group(g).await.unwrap();
    }
    // Another tenant's objects are neither counted nor paged.
    tx.insert_user(&provisioned(&other, "ann", "Ann0@Example.com")).await.unwrap();
    let mut foreign = group(&other, "Sales 0");
    foreign.provisioning = Some(ProvisionedGroup::default());
    tx.insert_group(&foreign).await.unwrap();
    tx.commit().await.unwrap();

    let user_filters = [
        None,
        Some(Filter::Present(Attr::UserName)),
        Some(Filter::text(Attr::UserName, Op::StartsWith, "ann")),
        Some(Filter::text(Attr::UserName, Op::Eq, "ÜNAL3@example.com")),
        Some(Filter::text(Attr::ExternalId, Op::Eq, "ext-1")),
        // externalId is compared exactly: another case matches nothing.
        Some(Filter::text(Attr::ExternalId, Op::Eq, "EXT-1")),
        Some(Filter::text(Attr::JobTitle, Op::Eq, "ENGINEER")),
        Some(Filter::And(vec![Filter::Present(Attr::UserName), Filter::cmp(Attr::AccountEnabled, Op::Eq, Value::Bool(false))])),
        Some(Filter::cmp(Attr::LastModifiedDateTime, Op::Gt, Value::Time(Timestamp::from_millis(T0 + 3)))),
        Some(Filter::Not(Box::new(Filter::text(Attr::UserName, Op::Contains, "b")))),
        Some(Filter::text(Attr::UserName, Op::Eq, "nobody@example.com")),
    ];
    let group_filters = [
        None,
        Some(Filter::cmp(Attr::Provisioned, Op::Eq, Value::Bool(true))),
        Some(Filter::cmp(Attr::Provisioned, Op::Eq, Value::Bool(false))),
        Some(Filter::text(Attr::DisplayName, Op::StartsWith, "sales")),
        Some(Filter::text(Attr::ExternalId, Op::Eq, "g-2")),
        Some(Filter::Present(Attr::ExternalId)),
        Some(Filter::cmp(Attr::LastModifiedDateTime, Op::Le, Value::Time(Timestamp::from_millis(T0 + 2)))),
    ];
    let user_orders = [None, Some(Order { attr: Attr::UserPrincipalName, descending: true }), Some(Order { attr: Attr::CreatedDateTime, descending: false })];
    let group_orders = [None, Some(Order { attr: Attr::DisplayName, descending: true })];
    let mut tx = store.begin_read().await.unwrap();
    let mut checked = 0;
    for f in &user_filters {
        let all = DirectoryQuery::new(ObjectKind::User, f.clone(), None, None, 1000).unwrap();
        let matching = all.run_in_memory(&users).len() as u64;
        assert_eq!(tx.count_users(t.id, &all).await.unwrap(), matching, "count of users for {f:?}");
        for order in user_orders {
            for (offset, limit) in [(0, 4), (3, 4), (7, 5), (20, 10), (40, 3)] {
                let q = DirectoryQuery::new(ObjectKind::User, f.clone(), order, None, limit).unwrap().with_offset(offset);
                // The count ignores the page.
                assert_eq!(tx.count_users(t.id, &q).await.unwrap(), matching);
                let got: Vec<Uuid> = tx.query_users(t.id, &q).await.unwrap().iter().map(|u| u.id.as_uuid()).collect();
                let want: Vec<Uuid> = q.run_in_memory(&users).iter().map(|u| u.id.as_uuid()).collect();
                assert_eq!(got, want, "users {f:?} order {order:?} offset {offset} limit {limit}");
                checked += 1;
            }
        }
    }
    for f in &group_filters {
        let all = DirectoryQuery::new(ObjectKind::Group, f.clone(), None, None, 1000).unwrap();
        let matching = all.run_in_memory(&groups).len() as u64;
        assert_eq!(tx.count_groups(t.id, &all).await.unwrap(), matching, "count of groups for {f:?}");
        for order in group_orders {
            for (offset, limit) in [(0, 3), (2, 5), (9, 4), (30, 2)] {
                let q = DirectoryQuery::new(ObjectKind::Group, f.clone(), order, None, limit).unwrap().with_offset(offset);
                assert_eq!(tx.count_groups(t.id, &q).await.unwrap(), matching);
                let got: Vec<Uuid> = tx.query_groups(t.id, &q).await.unwrap().iter().map(|g| g.id.as_uuid()).collect();
                let want: Vec<Uuid> = q.run_in_memory(&groups).iter().map(|g| g.id.as_uuid()).collect();
                assert_eq!(got, want, "groups {f:?} order {order:?} offset {offset} limit {limit}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, user_filters.len() * 15 + group_filters.len() * 8);
    // Pages at increasing offsets walk every match exactly once (SCIM startIndex paging).
    let f = Some(Filter::Present(Attr::UserName));
    let total = tx.count_users(t.id, &DirectoryQuery::new(ObjectKind::User, f.clone(), None, None, 1).unwrap()).await.unwrap();
    let mut seen = Vec::new();
    let mut offset = 0;
    while (offset as u64) < total {
        let q = DirectoryQuery::new(ObjectKind::User, f.clone(), None, None, 4).unwrap().with_offset(offset);
        let mut page = tx.query_users(t.id, &q).await.unwrap();
        page.truncate(4);
        assert!(!page.is_empty());
        seen.extend(page.iter().map(|u| u.id));
        offset += 4;
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (total as usize, total as usize));
    assert_eq!(total, users.iter().filter(|u| u.provisioning.is_some()).count() as u64);
}

async fn deleting_a_manager_clears_the_manager(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let boss = provisioned(&t, "boss", "boss@example.com");
    let mut report = provisioned(&t, "ann", "ann@example.com");
    if let Some(p) = report.provisioning.as_mut() {
        p.manager = Some(boss.id);
        p.title = Some("Engineer".into());
    }
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&boss).await.unwrap();
    tx.insert_user(&report).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(t.id, boss.id).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let after = tx.get_user(t.id, report.id).await.unwrap().unwrap();
    let p = after.provisioning.clone().unwrap();
    assert_eq!(p.manager, None, "the manager is gone, so the report has none");
    // Nothing else about the report changed.
    let mut want = report.clone();
    if let Some(p) = want.provisioning.as_mut() {
        p.manager = None;
    }
    assert_eq!(after, want);
}
