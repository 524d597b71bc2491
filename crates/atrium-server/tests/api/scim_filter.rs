//! SCIM filters against the store: seeded-random filters from the RFC 7644 grammar, parsed by
//! `scim::filter` and run by the provisioning services on each backend, give the same users and
//! groups as the in-memory evaluator over the same objects; garbage gives a `FilterError`.

use crate::helpers::TestApp;
use atrium_core::model::{Group, ProvisionedEmail, User};
use atrium_core::query::{Attr, DirectoryObject, DirectoryQuery, Filter, ObjectKind, Op, Value};
use atrium_core::secret::Secret;
use atrium_core::services::provisioning::{NewProvisioningToken, ProvisionGroup, ProvisionUser, Provisioner};
use atrium_core::time::Timestamp;
use atrium_server::scim::filter::{ScimResource, parse_filter};
use std::collections::BTreeSet;
use uuid::Uuid;

api_tests!(scim_filters_agree_with_the_evaluator);

/// Filters per kind of resource and backend.
const CASES: usize = 150;

/// splitmix64: a fixed seed gives both backends the same filters, and a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const GIVEN: &[&str] = &["Adele", "adele", "Alex", "Ünal", "Megan", "Zed", "Åsa", "Émile", "Bo", "Lee"];
const FAMILY: &[Option<&str>] = &[Some("Vance"), Some("VANCE"), Some("Wilber"), Some("Öz"), Some("Bowen"), None, Some("Ek"), Some("Zola")];
const TITLES: &[&str] = &["Engineer", "engineer", "Sales Lead", "Ünal Lead", "Chief Ek"];

async fn provisioner(app: &TestApp) -> Provisioner {
    let owner = app.owner().await;
    let (tid, admin) = app.tenant_with_admin(&owner, "contoso").await;
    let actor = app.services.authenticate(&Secret::new(admin)).await.unwrap();
    let tenant = atrium_core::ids::TenantId::parse(&tid, "tenantId").unwrap();
    let created = app.services.create_provisioning_token(&actor, tenant, NewProvisioningToken { name: "Entra provisioning".into(), valid_days: None }).await.unwrap();
    app.services.authenticate_provisioner(&created.value).await.unwrap()
}

fn sample_user(i: usize) -> ProvisionUser {
    let given = GIVEN[i % GIVEN.len()];
    let family = FAMILY[i % FAMILY.len()];
    let local = format!("{given}.{}{i}", family.unwrap_or("x"));
    let user_name = match i % 3 {
        0 => format!("{local}@contoso.com"),
        1 => format!("{}@Contoso.com", local.to_uppercase()),
        _ => local.to_lowercase(),
    };
    let mail = |kind: &str, primary: bool, host: &str| ProvisionedEmail {
        value: format!("{}.{kind}{i}@{host}", given.to_lowercase().replace(['ü', 'å', 'é'], "u")),
        kind: Some(kind.into()),
        primary,
        display: None,
    };
    // The directory's mail: the primary address, else the work one, else the first.
    let emails = match i % 4 {
        0 => vec![],
        1 => vec![mail("work", true, "contoso.com")],
        2 => vec![mail("home", false, "example.org"), mail("work", false, "Contoso.com")],
        _ => vec![mail("work", false, "contoso.com"), mail("home", true, "example.org")],
    };
    ProvisionUser {
        user_name,
        external_id: match i % 5 {
            0 => None,
            1 | 2 => Some(format!("EXT-{i:03}")),
            _ => Some(format!("ext-{i:03}")),
        },
        display_name: if i.is_multiple_of(6) { None } else { Some(format!("{given} {} {}", family.unwrap_or(""), i % 7)) },
        given_name: Some(given.into()),
        family_name: family.map(str::to_owned),
        emails,
        active: match i % 5 {
            0 => Some(false),
            1 => None,
            _ => Some(true),
        },
        title: if i % 3 == 2 { None } else { Some(TITLES[i % TITLES.len()].into()) },
        ..ProvisionUser::default()
    }
}

fn rfc3339(t: Timestamp, millis: bool) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.as_millis()) * 1_000_000).unwrap();
    if millis {
        at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z")).unwrap()
    } else {
        at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap()
    }
}

/// Random case changes: names and keywords are case-insensitive.
fn recase(rng: &mut Rng, s: &str) -> String {
    match rng.below(4) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        _ => s.to_owned(),
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Values to compare text with: whole values and pieces of the data, and some that match nothing.
fn fragment(rng: &mut Rng, pool: &[String]) -> String {
    let v = rng.pick(pool).clone();
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    let cut = |a: usize, b: usize| chars[a.min(b).min(n)..b.max(a).min(n)].iter().collect::<String>();
    match rng.below(8) {
        0 | 1 => v,
        2 => cut(0, 1 + rng.below(n.max(1))),
        3 => cut(rng.below(n.max(1)), n),
        4 => cut(rng.below(n.max(1)), rng.below(n + 1)),
        5 => v.to_uppercase(),
        6 => rng.pick(&["", "x", "ü", "Ü", "@", ".com", "zz", "Contoso"]).to_string(),
        _ => format!("{v}x"),
    }
}

struct Data {
    texts: Vec<String>,
    ids: Vec<String>,
    times: Vec<Timestamp>,
    kind: ScimResource,
}

fn leaf(rng: &mut Rng, d: &Data) -> String {
    const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
    let text_attrs: &[&str] = match d.kind {
        ScimResource::User => &[
            "userName",
            "displayName",
            "name.givenName",
            "name.familyName",
            "emails",
            "emails.value",
            "emails[type eq \"work\"].value",
            "externalId",
            "title",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        ],
        ScimResource::Group => &["displayName", "externalId", "urn:ietf:params:scim:schemas:core:2.0:Group:displayName"],
    };
    let op = rng_pick_str(rng, OPS);
    let op = recase(rng, op);
    match rng.below(10) {
        0..=4 => {
            let attr = rng_pick_str(rng, text_attrs);
            let attr = recase_attr(rng, attr);
            format!("{attr} {op} {}", quoted(&fragment(rng, &d.texts)))
        }
        5 => format!("{} {} {}", rng_pick_str(rng, text_attrs), rng_pick_str(rng, &["pr", "eq null", "ne null"]), ""),
        6 => {
            let id = if rng.chance(80) { rng.pick(&d.ids).clone() } else { "not-a-guid".into() };
            let id = if rng.chance(30) { id.to_uppercase() } else { id };
            format!("id {} {}", rng_pick_str(rng, &["eq", "ne"]), quoted(&id))
        }
        7 | 8 => {
            let base = *rng.pick(&d.times);
            let t = base.plus_millis(*rng.pick(&[0i64, 0, 1, -1, 999, -1000, 1500, -86_400_000]));
            let attr = rng_pick_str(rng, &["meta.created", "meta.lastModified", "META.LASTMODIFIED"]);
            let op = rng_pick_str(rng, &["eq", "ne", "gt", "ge", "lt", "le"]);
            format!("{attr} {op} {}", quoted(&rfc3339(t, rng.chance(50))))
        }
        _ => match d.kind {
            ScimResource::User => format!("active {} {}", rng_pick_str(rng, &["eq", "ne"]), rng_pick_str(rng, &["true", "false", "True"])),
            ScimResource::Group => format!("externalId {}", rng_pick_str(rng, &["pr", "eq null", "ne null"])),
        },
    }
}

fn rng_pick_str<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
}

fn recase_attr(rng: &mut Rng, a: &str) -> String {
    if a.starts_with("urn:") || a.contains('[') { a.to_owned() } else { recase(rng, a) }
}

/// A filter from the grammar: leaves joined by and/or, in parentheses, under not.
fn filter(rng: &mut Rng, d: &Data, depth: usize) -> String {
    if depth == 0 || rng.chance(35) {
        return leaf(rng, d);
    }
    match rng.below(4) {
        0 | 1 => {
            let left = filter(rng, d, depth - 1);
            let logic = rng_pick_str(rng, &["and", "or"]);
            let logic = recase(rng, logic);
            format!("{left} {logic} {}", filter(rng, d, depth - 1))
        }
        2 => format!("({})", filter(rng, d, depth - 1)),
        _ => format!("{} ({})", recase(rng, "not"), filter(rng, d, depth - 1)),
    }
}

/// Text that must be refused whatever `f` is.
fn garbage(rng: &mut Rng, f: &str) -> String {
    match rng.below(7) {
        0 => format!("{f} and"),
        1 => format!("({f}"),
        2 => format!("{f})"),
        3 => format!("{f} trailing"),
        4 => format!("noSuchAttribute eq \"x\" or {f}"),
        5 => format!("{f} or active co \"x\""),
        _ => format!("{f} and userName eq \"unclosed"),
    }
}

fn ids<T: DirectoryObject>(kind: ObjectKind, xs: &[&T]) -> BTreeSet<Uuid> {
    xs.iter().map(|o| o.object_id(kind)).collect()
}

async fn scim_filters_agree_with_the_evaluator(app: TestApp) {
    let p = provisioner(&app).await;
    let mut rng = Rng(0x5C1A);
    let mut provisioned = Vec::new();
    for i in 0..40 {
        app.clock.advance_millis(rng.below(2500) as i64);
        provisioned.push(app.services.provision_user(&p, sample_user(i)).await.unwrap());
    }
    // Some users change later, so lastModified differs from created.
    for u in provisioned.iter().step_by(7) {
        app.clock.advance_millis(700);
        let mut again = sample_user(provisioned.iter().position(|x| x.id == u.id).unwrap());
        again.title = Some("Renamed Lead".into());
        app.services.replace_provisioned_user(&p, &u.id.to_string(), again, None).await.unwrap();
    }
    for (i, name) in ["Sales", "sales team", "Ünal Fans", "Engineering", "Ek", "All Staff", "Bo's group", "Émile"].iter().enumerate() {
        app.clock.advance_millis(rng.below(1500) as i64);
        let members = provisioned.iter().skip(i).step_by(5).map(|u| u.id.to_string()).collect();
        let external_id = if i % 3 == 0 { None } else { Some(format!("G-{i}")) };
        app.services.provision_group(&p, ProvisionGroup { display_name: (*name).into(), external_id, members: Some(members) }).await.unwrap();
    }

    // Everything fetched back: the evaluator's input.
    let users: Vec<User> = app.services.query_provisioned_users(&p, None, 0, 200).await.unwrap().items;
    assert_eq!(users.len(), 40);
    let groups: Vec<Group> = app.services.query_provisioned_groups(&p, None, 0, 200, false).await.unwrap().items.into_iter().map(|(g, _)| g).collect();
    assert_eq!(groups.len(), 8);

    // The Entra shapes find what a person would expect.
    let one = |f: &str| parse_filter(f, ScimResource::User).unwrap();
    let adele = &users.iter().find(|u| u.provisioning.as_ref().unwrap().user_name == "ADELE.VANCE1@Contoso.com").unwrap();
    for f in [r#"userName eq "adele.vance1@contoso.com""#, r#"USERNAME EQ "ADELE.VANCE1@CONTOSO.COM""#, r#"externalId eq "EXT-001""#] {
        let page = app.services.query_provisioned_users(&p, Some(one(f)), 0, 200).await.unwrap();
        assert_eq!(page.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![adele.id], "{f}");
    }
    let page = app.services.query_provisioned_users(&p, Some(one(r#"externalId eq "ext-001""#)), 0, 200).await.unwrap();
    assert!(page.items.is_empty(), "externalId is case-exact");
    let work = adele.mail.as_ref().unwrap().to_string();
    let page = app.services.query_provisioned_users(&p, Some(one(&format!(r#"emails[type eq "work"].value eq "{}""#, work.to_uppercase()))), 0, 200).await.unwrap();
    assert_eq!(page.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![adele.id]);
    let page = app.services.query_provisioned_users(&p, Some(one(r#"userName eq "nobody-at-all""#)), 0, 200).await.unwrap();
    assert_eq!((page.total, page.items.len()), (0, 0), "Entra's Test connection");
    let page = app.services.query_provisioned_users(&p, Some(one(&format!(r#"meta.created eq "{}""#, rfc3339(adele.created_at, false)))), 0, 200).await.unwrap();
    assert!(page.items.iter().any(|u| u.id == adele.id), "a created time as rendered (to the second) finds the user");
    let sales = app.services.query_provisioned_groups(&p, Some(parse_filter(r#"displayName eq "SALES""#, ScimResource::Group).unwrap()), 0, 200, false).await.unwrap();
    assert_eq!(sales.items.iter().map(|(g, _)| g.name.to_string()).collect::<Vec<_>>(), vec!["Sales"]);

    for kind in [ScimResource::User, ScimResource::Group] {
        let (object_kind, texts, ids_pool, times) = match kind {
            ScimResource::User => {
                let mut texts = Vec::new();
                for u in &users {
                    let pr = u.provisioning.as_ref().unwrap();
                    texts.push(pr.user_name.clone());
                    texts.push(u.display_name.to_string());
                    texts.extend(u.given_name.as_ref().map(|v| v.to_string()));
                    texts.extend(u.surname.as_ref().map(|v| v.to_string()));
                    texts.extend(u.mail.as_ref().map(|v| v.to_string()));
                    texts.extend(pr.external_id.clone());
                    texts.extend(pr.title.clone());
                }
                let times = users.iter().flat_map(|u| [u.created_at, u.updated_at]).collect::<Vec<_>>();
                (ObjectKind::User, texts, users.iter().map(|u| u.id.to_string()).collect::<Vec<_>>(), times)
            }
            ScimResource::Group => {
                let mut texts = Vec::new();
                for g in &groups {
                    texts.push(g.name.to_string());
                    texts.extend(g.provisioning.as_ref().and_then(|p| p.external_id.clone()));
                }
                let times = groups.iter().flat_map(|g| [g.created_at, g.updated_at]).collect::<Vec<_>>();
                (ObjectKind::Group, texts, groups.iter().map(|g| g.id.to_string()).collect::<Vec<_>>(), times)
            }
        };
        let data = Data { texts, ids: ids_pool, times, kind };
        let scope = match kind {
            ScimResource::User => Filter::Present(Attr::UserName),
            ScimResource::Group => Filter::cmp(Attr::Provisioned, Op::Eq, Value::Bool(true)),
        };
        let mut hits = 0;
        for case in 0..CASES {
            let text = filter(&mut rng, &data, 3);
            let parsed = parse_filter(&text, kind).unwrap_or_else(|e| panic!("case {case}: {text}: {}", e.0));
            let q = DirectoryQuery::new(object_kind, Some(Filter::And(vec![scope.clone(), parsed.clone()])), None, None, 200).unwrap();
            let (got, total, want) = match kind {
                ScimResource::User => {
                    let page = app.services.query_provisioned_users(&p, Some(parsed), 0, 200).await.unwrap();
                    let got: BTreeSet<Uuid> = page.items.iter().map(|u| u.id.as_uuid()).collect();
                    (got, page.total, ids(object_kind, &q.run_in_memory(&users)))
                }
                ScimResource::Group => {
                    let page = app.services.query_provisioned_groups(&p, Some(parsed), 0, 200, false).await.unwrap();
                    let got: BTreeSet<Uuid> = page.items.iter().map(|(g, _)| g.id.as_uuid()).collect();
                    (got, page.total, ids(object_kind, &q.run_in_memory(&groups)))
                }
            };
            assert_eq!(got, want, "case {case} ({kind:?}): {text}");
            assert_eq!(total, want.len() as u64, "case {case} ({kind:?}) totalResults: {text}");
            hits += usize::from(!want.is_empty());

            let bad = garbage(&mut rng, &text);
            assert!(parse_filter(&bad, kind).is_err(), "case {case}: {bad} should be refused");
        }
        // The generator is useful only if filters both match and miss.
        assert!(hits > CASES / 5 && hits < CASES, "{kind:?}: {hits} of {CASES} filters matched something");
    }
}
