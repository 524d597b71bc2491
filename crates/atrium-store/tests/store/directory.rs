//! Tenants, users and groups.

use super::*;
use atrium_core::query::{DirectoryQuery, ObjectKind};

/// The REST `search` listing, as the services build it.
fn search(kind: ObjectKind, q: ListQuery) -> DirectoryQuery {
    DirectoryQuery::search(kind, &q).unwrap()
}

conformance!(
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
);

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
    assert!(tx.query_users(b.id, &search(ObjectKind::User, ListQuery::first(10))).await.unwrap().is_empty());
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
    let q = |p: &str| search(ObjectKind::User, ListQuery { prefix: Some(p.to_lowercase()), ..ListQuery::first(50) });
    let names = |v: Vec<atrium_core::model::User>| v.into_iter().map(|u| u.upn.alias().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(tx.query_users(t.id, &q("ad")).await.unwrap()), ["adele", "zed"]);
    assert_eq!(names(tx.query_users(t.id, &q("A")).await.unwrap()), ["adele", "alex", "zed"]);
    assert_eq!(names(tx.query_users(t.id, &q("megan b")).await.unwrap()), ["megan"]);
    assert_eq!(names(tx.query_users(t.id, &q("Ünal")).await.unwrap()), ["unal"]);
    assert!(tx.query_users(t.id, &q("nobody")).await.unwrap().is_empty());
}

async fn search_treats_like_wildcards_literally(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_user(&user(&t, "a_b", "A_b")).await.unwrap();
    tx.insert_user(&user(&t, "axb", "Axb")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let found = tx.query_users(t.id, &search(ObjectKind::User, ListQuery { prefix: Some("a_".into()), ..ListQuery::first(10) })).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].upn.alias(), "a_b");
    let none = tx.query_users(t.id, &search(ObjectKind::User, ListQuery { prefix: Some("%".into()), ..ListQuery::first(10) })).await.unwrap();
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
        // The store returns one row more than the page size: it only tells that more exist.
        let q = search(ObjectKind::User, ListQuery { after: after.clone(), ..ListQuery::first(10) });
        let mut page = tx.query_users(t.id, &q).await.unwrap();
        page.truncate(10);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| q.cursor_of(u));
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
    let found = tx.query_groups(t.id, &search(ObjectKind::Group, ListQuery { prefix: Some("eng".into()), ..ListQuery::first(10) })).await.unwrap();
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
