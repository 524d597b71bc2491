//! The directory query model: random filters, orders and pages give the same objects from the
//! store (SQLite and PostgreSQL) as from the in-memory evaluator in `atrium_core::query`.
//! Each backend runs the same seeded sequence of queries, so the two backends are held to the
//! evaluator and so to each other.

use super::*;
use atrium_core::domain::{AppIdUri, PersonName};
use atrium_core::ids::{ApplicationId, ClientId, ServicePrincipalId};
use atrium_core::model::{Application, Tenant, UserType};
use atrium_core::page::Page;
use atrium_core::query::{Attr, AttrType, DirectoryObject, DirectoryQuery, Filter, ObjectKind, Op, Order, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng as PropRng, TestRunner};
use uuid::Uuid;

conformance!(random_queries_agree_with_the_evaluator, prefix_search_uses_an_index_range);

/// Queries per kind of object and backend.
const CASES: usize = 120;

/// Names that collide under case folding and share prefixes and suffixes, with non-ASCII.
const NAMES: &[&str] = &["Adele Vance", "adele vance", "Alex Wilber", "Ünal Öz", "ünal", "Megan Bowen", "Zed", "zed", "Åsa Ek", "Émile", "Bo", "A_b", "a%"];
/// Fragments a filter compares with: pieces of the data above and some that match nothing.
const FRAGMENTS: &[&str] = &[
    "", "a", "A", "ad", "adele", "adele vance", "ünal", "Ü", "ü", "öz", "e", "vance", "zed", "z", "åsa", "é", "émile", "bo", "a_", "_", "%", "@", ".com",
    "contoso", "Member", "Guest", "member", "api://", "x", "zz", "\u{10FFFF}",
];

async fn random_queries_agree_with_the_evaluator(store: Arc<dyn Store>) {
    let t = tenant("contoso");
    let other = tenant("fabrikam");
    let (users, groups, apps) = (sample_users(&t), sample_groups(&t), sample_apps(&t));
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    tx.insert_tenant(&other).await.unwrap();
    for u in &users {
        tx.insert_user(u).await.unwrap();
    }
    // Another tenant's objects never appear in this tenant's answers.
    tx.insert_user(&user(&other, "adele", "Adele Vance")).await.unwrap();
    tx.insert_group(&group(&other, "Adele Vance")).await.unwrap();
    for g in &groups {
        tx.insert_group(g).await.unwrap();
    }
    for a in &apps {
        tx.insert_application(a).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    // A fixed seed: both backends see the same queries, and a failure can be replayed.
    let mut runner = TestRunner::new_with_rng(Config::default(), PropRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let mut pages = 0;
    for kind in [ObjectKind::User, ObjectKind::Group, ObjectKind::Application, ObjectKind::ServicePrincipal] {
        let ids: Vec<Uuid> = match kind {
            ObjectKind::User => users.iter().map(|o| o.object_id(kind)).collect(),
            ObjectKind::Group => groups.iter().map(|o| o.object_id(kind)).collect(),
            _ => apps.iter().map(|o| o.object_id(kind)).collect(),
        };
        let strategy = (filter_strategy(kind, ids), order_strategy(kind), 1u32..12);
        for _ in 0..CASES {
            let (filter, order, limit) = strategy.new_tree(&mut runner).unwrap().current();
            let first = DirectoryQuery::new(kind, filter.clone(), Some(order), None, limit).unwrap();
            let mut q = first.clone();
            // Walk every page: each one must be the evaluator's page for the same cursor.
            for _ in 0..100 {
                let (got, want) = match kind {
                    ObjectKind::User => compare(&q, tx.query_users(t.id, &q).await.unwrap(), &users),
                    ObjectKind::Group => compare(&q, tx.query_groups(t.id, &q).await.unwrap(), &groups),
                    _ => compare(&q, tx.query_applications(t.id, &q).await.unwrap(), &apps),
                };
                assert_eq!(got, want, "{kind:?} filter {filter:?} order {order:?} limit {limit}, page {:?}", q.after());
                pages += 1;
                let Some(cursor) = got.next_cursor.as_deref() else { break };
                // The cursor as a client sends it back (base64), decoded as the REST layer does.
                let after = ListQuery::parse(None, Some(cursor), Some(limit)).unwrap().after;
                q = DirectoryQuery::new(kind, filter.clone(), Some(order), after.as_deref(), limit).unwrap();
            }
        }
    }
    assert!(pages >= 4 * CASES, "every query was run ({pages} pages)");
}

/// The page the store gave and the page the evaluator gives, as (id list, next cursor).
fn compare<T: DirectoryObject>(q: &DirectoryQuery, stored: Vec<T>, all: &[T]) -> (Page<Uuid>, Page<Uuid>) {
    let ids = |rows: Vec<&T>| Page::from_rows(rows, q.limit(), |o| q.cursor_of(*o)).map(|o| o.object_id(q.kind()));
    let got = ids(stored.iter().collect());
    let want = ids(q.run_in_memory(all));
    // Cursors are base64 of the sort key and id: equal pages have equal cursors.
    (got, want)
}

fn text_values(kind: ObjectKind) -> BoxedStrategy<String> {
    let _ = kind;
    prop_oneof![3 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned), 1 => "[aAüÜz_% @.]{0,3}"].boxed()
}

fn leaf_strategy(kind: ObjectKind, ids: Vec<Uuid>) -> BoxedStrategy<Filter> {
    let mut leaves: Vec<BoxedStrategy<Filter>> = Vec::new();
    for spec in kind.attributes() {
        let attr = spec.attr;
        match spec.ty {
            AttrType::Text { .. } => {
                let ops = vec![Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le, Op::StartsWith, Op::EndsWith, Op::Contains];
                leaves.push((proptest::sample::select(ops), text_values(kind)).prop_map(move |(op, v)| Filter::text(attr, op, v)).boxed());
                leaves.push(
                    proptest::collection::vec(text_values(kind), 1..4)
                        .prop_map(move |vs| Filter::In { attr, values: vs.into_iter().map(Value::Text).collect() })
                        .boxed(),
                );
            }
            AttrType::Bool => {
                leaves.push((proptest::sample::select(vec![Op::Eq, Op::Ne]), any::<bool>()).prop_map(move |(op, b)| Filter::cmp(attr, op, Value::Bool(b))).boxed());
            }
            AttrType::Time => {
                let ops = vec![Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];
                leaves.push(
                    (proptest::sample::select(ops), -1i64..9)
                        .prop_map(move |(op, d)| Filter::cmp(attr, op, Value::Time(Timestamp::from_millis(T0 + d))))
                        .boxed(),
                );
            }
            AttrType::Id => {
                let mut pool = ids.clone();
                pool.push(Uuid::from_u128(1));
                let one = proptest::sample::select(pool.clone());
                leaves.push((proptest::sample::select(vec![Op::Eq, Op::Ne]), one).prop_map(move |(op, id)| Filter::cmp(attr, op, Value::Id(id))).boxed());
                leaves.push(
                    proptest::sample::subsequence(pool, 1..4).prop_map(move |v| Filter::In { attr, values: v.into_iter().map(Value::Id).collect() }).boxed(),
                );
            }
        }
        if spec.nullable {
            leaves.push(Just(Filter::Present(attr)).boxed());
        }
    }
    proptest::strategy::Union::new(leaves).boxed()
}

fn filter_strategy(kind: ObjectKind, ids: Vec<Uuid>) -> impl Strategy<Value = Option<Filter>> {
    let tree = leaf_strategy(kind, ids).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Filter::And),
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    });
    proptest::option::weighted(0.9, tree)
}

fn order_strategy(kind: ObjectKind) -> impl Strategy<Value = Order> {
    let attrs: Vec<Attr> = kind.attributes().iter().filter(|s| !s.nullable && matches!(s.ty, AttrType::Text { .. } | AttrType::Time)).map(|s| s.attr).collect();
    (proptest::sample::select(attrs), any::<bool>()).prop_map(|(attr, descending)| Order { attr, descending })
}

fn at(i: usize) -> Timestamp {
    // Few distinct times, so ties are broken by id.
    Timestamp::from_millis(T0 + (i % 7) as i64)
}

fn sample_users(t: &Tenant) -> Vec<atrium_core::model::User> {
    (0..36)
        .map(|i| {
            let name = NAMES[i % NAMES.len()];
            let mut u = user(t, &format!("{}{i}", ["adele", "Alex", "unal", "zed", "a.b"][i % 5]), &format!("{name}{}", if i % 3 == 0 { "" } else { " X" }));
            u.given_name = (i % 4 != 0).then(|| PersonName::parse(NAMES[(i + 3) % NAMES.len()], "x").unwrap());
            u.surname = (i % 5 != 0).then(|| PersonName::parse(NAMES[(i + 5) % NAMES.len()], "x").unwrap());
            u.mail = (i % 3 != 1).then(|| email(&format!("{}{i}@Contoso.com", ["Ann", "bo", "ZED"][i % 3])));
            u.user_type = if i % 6 == 0 { UserType::Guest } else { UserType::Member };
            u.enabled = i % 4 != 3;
            u.created_at = at(i);
            u
        })
        .collect()
}

fn sample_groups(t: &Tenant) -> Vec<atrium_core::model::Group> {
    (0..14)
        .map(|i| {
            let mut g = group(t, &format!("{} {i}", NAMES[i % NAMES.len()]));
            g.created_at = at(i);
            g
        })
        .collect()
}

fn sample_apps(t: &Tenant) -> Vec<Application> {
    (0..14)
        .map(|i| Application {
            id: ApplicationId::random(&rng()),
            client_id: ClientId::random(&rng()),
            service_principal_id: ServicePrincipalId::random(&rng()),
            tenant_id: t.id,
            display_name: DisplayName::parse(NAMES[i % NAMES.len()], "x").unwrap(),
            reply_urls: vec![],
            app_id_uri: (i % 3 != 0).then(|| AppIdUri::parse(&format!("api://{}-{i}", ["Adele", "zed", "unal"][i % 3]), "x").unwrap()),
            public_client: i % 2 == 0,
            created_at: at(i),
            updated_at: at(i),
        })
        .collect()
}

async fn prefix_search_uses_an_index_range(store: Arc<dyn Store>) {
    // A prefix is a range on the lowered column, so `%` and `_` are literal characters and a
    // prefix matches case-insensitively, also beyond ASCII.
    let t = tenant("contoso");
    let mut tx = store.begin().await.unwrap();
    tx.insert_tenant(&t).await.unwrap();
    for (alias, name) in [("adele", "Adele Vance"), ("pct", "100% Sure"), ("unal", "ÜNAL Öz")] {
        tx.insert_user(&user(&t, alias, name)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let names = |v: Vec<atrium_core::model::User>| v.into_iter().map(|u| u.upn.alias().to_owned()).collect::<Vec<_>>();
    let q = |attr, op, v: &str| DirectoryQuery::new(ObjectKind::User, Some(Filter::text(attr, op, v)), None, None, 10).unwrap();
    assert_eq!(names(tx.query_users(t.id, &q(Attr::DisplayName, Op::StartsWith, "100%")).await.unwrap()), ["pct"]);
    assert_eq!(names(tx.query_users(t.id, &q(Attr::DisplayName, Op::StartsWith, "ünal ö")).await.unwrap()), ["unal"]);
    assert_eq!(names(tx.query_users(t.id, &q(Attr::DisplayName, Op::EndsWith, "VANCE")).await.unwrap()), ["adele"]);
    assert_eq!(names(tx.query_users(t.id, &q(Attr::Mail, Op::Eq, "SOMEONE@example.com")).await.unwrap()), ["adele", "pct", "unal"]);
    assert!(tx.query_users(t.id, &q(Attr::DisplayName, Op::StartsWith, "_")).await.unwrap().is_empty());
}
