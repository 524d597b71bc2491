//! Effective access (R7) with an explanation, the "grant only what you hold" check (R8), and
//! the derived "Mixed" indicator (A14).
//!
//! Effective access is the union of the member's own grant and the grants of its groups (§6,
//! A13). Roles are bundles that apply to every product; custom permissions apply to the products
//! they name, or to all products (current and future). The owner holds everything.

use super::catalog::{Level, PermissionDef, PermissionScope, Role, all, role_level, roles_see_all_products};
use super::grant::{Grant, ProductScope};
use crate::error::{Error, ErrorCode};
use crate::ids::{GroupId, ProductId};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Where a grant comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantSource {
    /// The account owner (not a grant at all: the owner holds everything).
    Owner,
    /// The principal's own grant.
    Member,
    /// The grant of a group the principal is a direct member of.
    Group(GroupId),
}

/// `{"kind":"owner"}`, `{"kind":"member"}` or `{"kind":"group","groupId":"…"}`.
impl Serialize for GrantSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            GrantSource::Owner | GrantSource::Member => {
                let mut s = serializer.serialize_struct("GrantSource", 1)?;
                s.serialize_field("kind", if *self == GrantSource::Owner { "owner" } else { "member" })?;
                s.end()
            }
            GrantSource::Group(id) => {
                let mut s = serializer.serialize_struct("GrantSource", 2)?;
                s.serialize_field("kind", "group")?;
                s.serialize_field("groupId", id)?;
                s.end()
            }
        }
    }
}

/// What in a grant gives the access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Owner,
    Role(Role),
    Permission { permission: &'static str, level: Level, products: ProductScope },
}

/// `{"kind":"owner"}`, `{"kind":"role","role":"developer"}` or
/// `{"kind":"permission","permission":"usage","level":"read_only","products":"all"|[…]}`.
impl Serialize for Via {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Via::Owner => {
                let mut s = serializer.serialize_struct("Via", 1)?;
                s.serialize_field("kind", "owner")?;
                s.end()
            }
            Via::Role(role) => {
                let mut s = serializer.serialize_struct("Via", 2)?;
                s.serialize_field("kind", "role")?;
                s.serialize_field("role", role)?;
                s.end()
            }
            Via::Permission { permission, level, products } => {
                let mut s = serializer.serialize_struct("Via", 4)?;
                s.serialize_field("kind", "permission")?;
                s.serialize_field("permission", permission)?;
                s.serialize_field("level", level)?;
                s.serialize_field("products", products)?;
                s.end()
            }
        }
    }
}

/// One grant that reaches the effective level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub source: GrantSource,
    pub via: Via,
}

/// The answer of an access check: `{allowed, level, because:[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub allowed: bool,
    /// The effective level, `None` for no access.
    pub level: Option<Level>,
    /// Every grant that reaches `level` (several when they tie); empty for no access.
    pub because: Vec<Reason>,
}

/// The level one custom permission contributes to a check, if it applies.
fn custom_level(
    cp: &super::grant::CustomPermission,
    permission: &PermissionDef,
    product: Option<ProductId>,
) -> Option<Level> {
    if cp.permission.id != permission.id {
        return None;
    }
    let applies = match (permission.scope, product) {
        // Account-level permissions apply account-wide; a product, if given, is irrelevant.
        (PermissionScope::Account, _) => true,
        (PermissionScope::Product, Some(p)) => cp.products.contains(p),
        // "All products" question: only an All-products selection answers it.
        (PermissionScope::Product, None) => cp.products == ProductScope::All,
    };
    applies.then_some(cp.level)
}

/// Effective access of a principal to `permission` (on `product`, for product-level
/// permissions; `None` asks about all products, current and future).
///
/// `grants` are the principal's own grant (`GrantSource::Member`) and those of its groups.
/// The result does not depend on their order.
pub fn evaluate(
    is_owner: bool,
    grants: &[(GrantSource, &Grant)],
    permission: &PermissionDef,
    product: Option<ProductId>,
    required: Level,
) -> Decision {
    if is_owner {
        let level = permission.highest_level();
        return Decision {
            allowed: level >= required,
            level: Some(level),
            because: vec![Reason { source: GrantSource::Owner, via: Via::Owner }],
        };
    }

    // First pass without allocating: the effective level is the maximum over the union.
    let mut best: Option<Level> = None;
    for (_, grant) in grants {
        let roles = grant.roles.iter().filter_map(|r| role_level(*r, permission));
        let customs = grant.permissions.iter().filter_map(|cp| custom_level(cp, permission, product));
        for level in roles.chain(customs) {
            best = best.max(Some(level));
        }
    }

    // Second pass: every grant that reaches that level explains the answer.
    let mut because = Vec::new();
    if let Some(level) = best {
        for (source, grant) in grants {
            for role in &grant.roles {
                if role_level(*role, permission) == Some(level) {
                    because.push(Reason { source: *source, via: Via::Role(*role) });
                }
            }
            for cp in &grant.permissions {
                if custom_level(cp, permission, product) == Some(level) {
                    because.push(Reason {
                        source: *source,
                        via: Via::Permission { permission: cp.permission.id, level, products: cp.products.clone() },
                    });
                }
            }
        }
    }

    Decision { allowed: best.is_some_and(|l| l >= required), level: best, because }
}

/// Whether the principal sees every product regardless of custom permissions: the owner, and
/// holders of Manager or Developer (§9.1 newer overview, A13, R7).
pub fn sees_all_products(is_owner: bool, grants: &[(GrantSource, &Grant)]) -> bool {
    is_owner || grants.iter().any(|(_, g)| g.roles.iter().any(|r| roles_see_all_products(*r)))
}

fn holds(actor: &[(GrantSource, &Grant)], permission: &PermissionDef, scope: &ProductScope, level: Level) -> bool {
    match scope {
        ProductScope::All => evaluate(false, actor, permission, None, level).allowed,
        ProductScope::Products(ids) => ids.iter().all(|p| evaluate(false, actor, permission, Some(*p), level).allowed),
    }
}

fn cannot_grant(target: String, what: String) -> Error {
    Error::new(ErrorCode::InvalidRequest)
        .with_message(format!("You cannot grant what you do not hold: {what}."))
        .with_target(target)
}

/// R8 / A19: nobody grants what they do not hold. Ok when the actor is the owner, or when:
///
/// - for every role in `wanted`, the actor holds that role, or the actor's effective access
///   covers the role's whole bundle (every permission at its level, on all products). So a
///   Manager may grant Manager, Developer, Business Contributor and Marketer, but not Finance
///   Contributor, whose bundle includes Payout account and Tax profile, which Manager lacks
///   (A3). Otherwise a Manager could give payout access to an application it controls.
/// - for every custom permission in `wanted`, the actor's effective access is at least that
///   level on every product it names (or on all products, for an All-products selection).
///
/// Whether the actor may manage members at all (Manager, or Account users read/write) is the
/// caller's check; this only compares what is granted with what is held. Errors are
/// `invalid_request` with `target` = `roles[i]` or `permissions[i]` of `wanted`.
pub fn covers(actor_grants: &[(GrantSource, &Grant)], actor_is_owner: bool, wanted: &Grant) -> Result<(), Error> {
    if actor_is_owner {
        return Ok(());
    }
    for (i, role) in wanted.roles.iter().enumerate() {
        let held = actor_grants.iter().any(|(_, g)| g.roles.contains(role));
        let bundle_covered = || {
            all().all(|p| match role_level(*role, p) {
                Some(level) => holds(actor_grants, p, &ProductScope::All, level),
                None => true,
            })
        };
        if !held && !bundle_covered() {
            return Err(cannot_grant(format!("roles[{i}]"), format!("the role '{}'", role.as_str())));
        }
    }
    for (i, cp) in wanted.permissions.iter().enumerate() {
        if !holds(actor_grants, cp.permission, &cp.products, cp.level) {
            return Err(cannot_grant(
                format!("permissions[{i}]"),
                format!("'{}' at {} on the chosen products", cp.permission.id, cp.level.as_str()),
            ));
        }
    }
    Ok(())
}

/// The "Mixed" indicator of an aggregate row (§9.3, A14): true when its child rows differ.
/// Derived on display, never stored. `None` is "No access".
pub fn mixed(rows: &[Option<Level>]) -> bool {
    rows.windows(2).any(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::catalog::permission;
    use crate::access::grant::{CustomPermission, GrantInput};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn pid(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }

    fn gid(n: u128) -> GroupId {
        GroupId::from_uuid(Uuid::from_u128(n))
    }

    fn perm(id: &str) -> &'static PermissionDef {
        permission(id).unwrap()
    }

    fn roles(roles: &[Role]) -> Grant {
        Grant { roles: roles.to_vec(), permissions: vec![] }
    }

    fn custom(id: &str, level: Level, products: ProductScope) -> Grant {
        Grant { roles: vec![], permissions: vec![CustomPermission { permission: perm(id), level, products }] }
    }

    fn level(grants: &[(GrantSource, &Grant)], id: &str, product: Option<ProductId>) -> Option<Level> {
        evaluate(false, grants, perm(id), product, Level::ReadOnly).level
    }

    #[test]
    fn owner_has_everything_at_the_highest_level() {
        for p in all() {
            let d = evaluate(true, &[], p, Some(pid(1)), Level::ReadOnly);
            assert!(d.allowed);
            assert_eq!(d.level, Some(p.highest_level()));
            assert_eq!(d.because, vec![Reason { source: GrantSource::Owner, via: Via::Owner }]);
        }
        assert!(evaluate(true, &[], perm("payout_account"), None, Level::ReadWrite).allowed);
    }

    #[test]
    fn nothing_held_means_no_access() {
        let d = evaluate(false, &[], perm("usage"), Some(pid(1)), Level::ReadOnly);
        assert_eq!(d, Decision { allowed: false, level: None, because: vec![] });
    }

    #[test]
    fn union_of_own_grant_and_two_groups() {
        let own = custom("store_listings", Level::ReadOnly, ProductScope::All);
        let g1 = roles(&[Role::BusinessContributor]);
        let g2 = custom("store_listings", Level::ReadWrite, ProductScope::Products(vec![pid(1)]));
        let grants =
            [(GrantSource::Member, &own), (GrantSource::Group(gid(1)), &g1), (GrantSource::Group(gid(2)), &g2)];
        // From the group-1 role.
        assert_eq!(level(&grants, "health", Some(pid(1))), Some(Level::ReadOnly));
        // Group 2 raises product 1 to read/write; product 2 keeps the member's read-only.
        let d = evaluate(false, &grants, perm("store_listings"), Some(pid(1)), Level::ReadWrite);
        assert!(d.allowed);
        assert_eq!(d.because.len(), 1);
        assert_eq!(d.because[0].source, GrantSource::Group(gid(2)));
        let d = evaluate(false, &grants, perm("store_listings"), Some(pid(2)), Level::ReadWrite);
        assert!(!d.allowed);
        assert_eq!(d.level, Some(Level::ReadOnly));
        assert_eq!(d.because[0].source, GrantSource::Member);
        assert_eq!(level(&grants, "payout_account", None), None);
    }

    #[test]
    fn product_scoping() {
        let a = custom("packages", Level::ReadWrite, ProductScope::Products(vec![pid(1)]));
        let grants = [(GrantSource::Member, &a)];
        assert_eq!(level(&grants, "packages", Some(pid(1))), Some(Level::ReadWrite));
        assert_eq!(level(&grants, "packages", Some(pid(2))), None, "product A does not allow product B");
        assert_eq!(level(&grants, "packages", None), None, "a product-scoped grant does not answer 'all products'");

        let every = custom("packages", Level::ReadOnly, ProductScope::All);
        let grants = [(GrantSource::Member, &every)];
        // A product created later is any id the grant has never seen.
        let later = ProductId::from_uuid(Uuid::from_u128(0xdead_beef));
        assert_eq!(level(&grants, "packages", Some(later)), Some(Level::ReadOnly));
        assert_eq!(level(&grants, "packages", None), Some(Level::ReadOnly));
        // Other permissions are untouched.
        assert_eq!(level(&grants, "store_listings", Some(later)), None);
    }

    #[test]
    fn account_level_checks_ignore_products() {
        let g = custom("account_users", Level::ReadWrite, ProductScope::All);
        let grants = [(GrantSource::Member, &g)];
        assert_eq!(level(&grants, "account_users", Some(pid(5))), Some(Level::ReadWrite));
        assert_eq!(level(&grants, "account_users", None), Some(Level::ReadWrite));
    }

    #[test]
    fn roles_cover_every_product_and_manager_and_developer_see_all() {
        let dev = roles(&[Role::Developer]);
        let manager = roles(&[Role::Manager]);
        let later = pid(424242);
        for g in [&dev, &manager] {
            let grants = [(GrantSource::Member, g)];
            assert!(sees_all_products(false, &grants));
            assert!(evaluate(false, &grants, perm("packages"), Some(later), Level::ReadWrite).allowed);
            assert!(evaluate(false, &grants, perm("packages"), None, Level::ReadWrite).allowed);
        }
        assert!(sees_all_products(true, &[]));
        let marketer = roles(&[Role::Marketer]);
        assert!(!sees_all_products(false, &[(GrantSource::Member, &marketer)]));
        let via_group = [(GrantSource::Group(gid(1)), &dev)];
        assert!(sees_all_products(false, &via_group));
    }

    #[test]
    fn manager_lacks_payout_and_tax_finance_contributor_has_them() {
        let manager = roles(&[Role::Manager]);
        let finance = roles(&[Role::FinanceContributor]);
        for id in ["payout_account", "tax_profile"] {
            assert_eq!(level(&[(GrantSource::Member, &manager)], id, None), None, "{id}");
            assert!(evaluate(false, &[(GrantSource::Member, &finance)], perm(id), None, Level::ReadWrite).allowed);
        }
        assert!(
            evaluate(false, &[(GrantSource::Member, &manager)], perm("account_settings"), None, Level::ReadWrite)
                .allowed
        );
        assert!(
            !evaluate(false, &[(GrantSource::Member, &finance)], perm("packages"), Some(pid(1)), Level::ReadOnly)
                .allowed
        );
    }

    #[test]
    fn because_lists_every_deciding_grant_and_only_those() {
        let own = roles(&[Role::Developer, Role::BusinessContributor]);
        let g1 = custom("usage", Level::ReadOnly, ProductScope::Products(vec![pid(1)]));
        let g2 = custom("usage", Level::ReadOnly, ProductScope::Products(vec![pid(2)]));
        let grants =
            [(GrantSource::Member, &own), (GrantSource::Group(gid(1)), &g1), (GrantSource::Group(gid(2)), &g2)];
        let d = evaluate(false, &grants, perm("usage"), Some(pid(1)), Level::ReadOnly);
        assert_eq!(
            d.because,
            vec![
                Reason { source: GrantSource::Member, via: Via::Role(Role::Developer) },
                Reason { source: GrantSource::Member, via: Via::Role(Role::BusinessContributor) },
                Reason {
                    source: GrantSource::Group(gid(1)),
                    via: Via::Permission {
                        permission: "usage",
                        level: Level::ReadOnly,
                        products: ProductScope::Products(vec![pid(1)])
                    }
                },
            ]
        );
        // A lower grant does not explain a higher answer.
        let low = custom("packages", Level::ReadOnly, ProductScope::All);
        let grants = [(GrantSource::Member, &low), (GrantSource::Group(gid(3)), &own)];
        let d = evaluate(false, &grants, perm("packages"), Some(pid(1)), Level::ReadWrite);
        assert!(d.allowed);
        assert_eq!(d.because, vec![Reason { source: GrantSource::Group(gid(3)), via: Via::Role(Role::Developer) }]);
    }

    #[test]
    fn decision_serializes_for_the_api() {
        let g = custom("usage", Level::ReadOnly, ProductScope::All);
        let d = evaluate(false, &[(GrantSource::Group(gid(1)), &g)], perm("usage"), None, Level::ReadOnly);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({
                "allowed": true,
                "level": "read_only",
                "because": [{
                    "source": {"kind": "group", "groupId": gid(1).to_string()},
                    "via": {"kind": "permission", "permission": "usage", "level": "read_only", "products": "all"}
                }]
            })
        );
        let owner = evaluate(true, &[], perm("usage"), None, Level::ReadOnly);
        assert_eq!(
            serde_json::to_value(&owner).unwrap()["because"],
            serde_json::json!([{"source": {"kind": "owner"}, "via": {"kind": "owner"}}])
        );
        let r = Reason { source: GrantSource::Member, via: Via::Role(Role::Marketer) };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"source": {"kind": "member"}, "via": {"kind": "role", "role": "marketer"}})
        );
        let none = evaluate(false, &[], perm("usage"), None, Level::ReadOnly);
        assert_eq!(
            serde_json::to_value(&none).unwrap(),
            serde_json::json!({"allowed": false, "level": null, "because": []})
        );
    }

    fn parse(json: serde_json::Value) -> Grant {
        serde_json::from_value::<GrantInput>(json).unwrap().parse(&[pid(1), pid(2)]).unwrap()
    }

    #[test]
    fn covers_grant_only_what_you_hold() {
        use serde_json::json;
        let manager = roles(&[Role::Manager]);
        let actor = [(GrantSource::Member, &manager)];
        assert!(
            covers(
                &actor,
                false,
                &parse(json!({"roles": ["manager", "developer", "marketer", "business_contributor"]}))
            )
            .is_ok()
        );
        let err = covers(&actor, false, &parse(json!({"roles": ["developer", "finance_contributor"]}))).unwrap_err();
        assert_eq!(err.target.as_deref(), Some("roles[1]"));
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.message.contains("You cannot grant what you do not hold"));
        let err = covers(
            &actor,
            false,
            &parse(json!({"permissions": [
            {"permission": "packages", "level": "read_write"},
            {"permission": "tax_profile", "level": "read_only"}]})),
        )
        .unwrap_err();
        assert_eq!(err.target.as_deref(), Some("permissions[1]"));
        // The owner grants anything.
        assert!(covers(&[], true, &parse(json!({"roles": ["finance_contributor"]}))).is_ok());

        // Account users read/write alone: may grant only what the actor's custom permissions hold.
        let limited = parse(json!({"permissions": [
            {"permission": "account_users", "level": "read_write"},
            {"permission": "packages", "level": "read_write", "products": [pid(1).to_string()]},
            {"permission": "usage", "level": "read_only"},
            {"permission": "health", "level": "read_only"}]}));
        let actor = [(GrantSource::Member, &limited)];
        assert!(
            covers(
                &actor,
                false,
                &parse(json!({"permissions": [
            {"permission": "packages", "level": "read_only", "products": [pid(1).to_string()]}]}))
            )
            .is_ok()
        );
        assert!(
            covers(
                &actor,
                false,
                &parse(json!({"permissions": [
            {"permission": "packages", "level": "read_only", "products": [pid(1).to_string(), pid(2).to_string()]}]}))
            )
            .is_err()
        );
        assert!(
            covers(&actor, false, &parse(json!({"permissions": [{"permission": "packages", "level": "read_only"}]})))
                .is_err()
        );
        assert_eq!(
            covers(&actor, false, &parse(json!({"roles": ["manager"]}))).unwrap_err().target.as_deref(),
            Some("roles[0]")
        );
        // Holding the whole bundle through custom permissions is as good as holding the role.
        assert!(covers(&actor, false, &parse(json!({"roles": ["business_contributor"]}))).is_ok());
        // Roles held through a group count too.
        let fin = roles(&[Role::FinanceContributor]);
        let actor = [(GrantSource::Member, &manager), (GrantSource::Group(gid(1)), &fin)];
        assert!(
            covers(
                &actor,
                false,
                &parse(json!({"roles": ["finance_contributor"], "permissions": [
            {"permission": "tax_profile", "level": "read_write"}]}))
            )
            .is_ok()
        );
    }

    #[test]
    fn mixed_is_derived_from_children() {
        assert!(!mixed(&[]));
        assert!(!mixed(&[Some(Level::ReadOnly)]));
        assert!(!mixed(&[Some(Level::ReadOnly), Some(Level::ReadOnly)]));
        assert!(mixed(&[Some(Level::ReadOnly), Some(Level::ReadWrite)]));
        assert!(mixed(&[None, Some(Level::ReadOnly), Some(Level::ReadOnly)]));
        assert!(!mixed(&[None, None]));
    }

    // ---- property tests ----

    const PRODUCTS: u128 = 4;

    fn arb_scope() -> impl Strategy<Value = ProductScope> {
        prop_oneof![
            Just(ProductScope::All),
            proptest::sample::subsequence((1..=PRODUCTS).collect::<Vec<_>>(), 1..=PRODUCTS as usize)
                .prop_map(|ns| ProductScope::Products(ns.into_iter().map(pid).collect())),
        ]
    }

    fn arb_custom() -> impl Strategy<Value = CustomPermission> {
        let defs: Vec<&'static PermissionDef> = all().collect();
        (proptest::sample::select(defs), any::<bool>(), arb_scope()).prop_map(|(def, high, scope)| {
            let level = if high { def.highest_level() } else { def.levels().next().unwrap_or(Level::ReadOnly) };
            let products = if def.scope == PermissionScope::Account { ProductScope::All } else { scope };
            CustomPermission { permission: def, level, products }
        })
    }

    fn arb_grant() -> impl Strategy<Value = Grant> {
        (proptest::sample::subsequence(Role::ALL.to_vec(), 0..=2), proptest::collection::vec(arb_custom(), 0..4))
            .prop_map(|(roles, mut permissions)| {
                // A parsed grant never lists a permission twice.
                let mut seen = std::collections::HashSet::new();
                permissions.retain(|p| seen.insert(p.permission.id));
                Grant { roles, permissions }
            })
    }

    fn arb_source() -> impl Strategy<Value = GrantSource> {
        prop_oneof![Just(GrantSource::Member), (0u128..4).prop_map(|n| GrantSource::Group(gid(n)))]
    }

    fn arb_question() -> impl Strategy<Value = (&'static PermissionDef, Option<ProductId>)> {
        let defs: Vec<&'static PermissionDef> = all().collect();
        (proptest::sample::select(defs), proptest::option::of((1..=PRODUCTS + 1).prop_map(pid)))
    }

    fn sorted_reasons(d: &Decision) -> Vec<String> {
        let mut v: Vec<String> = d.because.iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    }

    proptest! {
        #[test]
        fn adding_a_grant_never_lowers_the_level(
            grants in proptest::collection::vec((arb_source(), arb_grant()), 0..5),
            extra in (arb_source(), arb_grant()),
            (def, product) in arb_question(),
        ) {
            let before: Vec<(GrantSource, &Grant)> = grants.iter().map(|(s, g)| (*s, g)).collect();
            let mut after = before.clone();
            after.push((extra.0, &extra.1));
            let a = evaluate(false, &before, def, product, Level::ReadOnly);
            let b = evaluate(false, &after, def, product, Level::ReadOnly);
            prop_assert!(b.level >= a.level);
            prop_assert!(!a.allowed || b.allowed);
            // Reasons are present exactly when there is access.
            prop_assert_eq!(a.level.is_some(), !a.because.is_empty());
        }

        #[test]
        fn evaluation_is_order_independent(
            grants in proptest::collection::vec((arb_source(), arb_grant()), 0..6),
            (def, product) in arb_question(),
            seed in any::<u64>(),
        ) {
            let forward: Vec<(GrantSource, &Grant)> = grants.iter().map(|(s, g)| (*s, g)).collect();
            let mut shuffled = forward.clone();
            // A cheap deterministic permutation driven by the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = ((seed.rotate_left(i as u32) ^ i as u64) % (i as u64 + 1)) as usize;
                shuffled.swap(i, j);
            }
            let mut reversed = forward.clone();
            reversed.reverse();
            for required in Level::ALL {
                let a = evaluate(false, &forward, def, product, required);
                for other in [&shuffled, &reversed] {
                    let b = evaluate(false, other, def, product, required);
                    prop_assert_eq!(a.allowed, b.allowed);
                    prop_assert_eq!(a.level, b.level);
                    prop_assert_eq!(sorted_reasons(&a), sorted_reasons(&b));
                }
            }
        }

        #[test]
        fn grants_round_trip_through_storage(grant in arb_grant()) {
            prop_assert_eq!(Grant::from_json(&grant.to_json())?, grant);
        }

        #[test]
        fn a_grant_covers_itself(grant in arb_grant()) {
            prop_assert!(covers(&[(GrantSource::Member, &grant)], false, &grant).is_ok());
        }
    }
}
