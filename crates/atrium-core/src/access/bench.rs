//! A micro-benchmark of [`evaluate`](super::evaluate) for the CLI `bench` command (DESIGN:
//! access check p99 < 200 µs in process). Not a test: timings are reported, never asserted.

use super::catalog::{Level, PermissionDef, PermissionScope, Role, all};
use super::evaluate::{GrantSource, evaluate};
use super::grant::{CustomPermission, Grant, ProductScope};
use crate::ids::{GroupId, ProductId};
use std::hint::black_box;
use std::time::Instant;
use uuid::Uuid;

const PRODUCTS: usize = 50;

fn product(n: usize) -> ProductId {
    ProductId::from_uuid(Uuid::from_u128(0x5000 + n as u128))
}

/// `count` custom permissions, spread over the catalog, each product-level one limited to a
/// window of `width` products starting at `offset`.
fn customs(count: usize, offset: usize, width: usize) -> Vec<CustomPermission> {
    all()
        .skip(offset % 7)
        .step_by(2)
        .take(count)
        .enumerate()
        .map(|(i, def)| CustomPermission {
            permission: def,
            level: def.highest_level(),
            products: match def.scope {
                PermissionScope::Account => ProductScope::All,
                // Every fifth product-level permission is granted on all products.
                PermissionScope::Product if i % 5 == 0 => ProductScope::All,
                PermissionScope::Product => {
                    ProductScope::Products((0..width).map(|k| product((offset + i + k) % PRODUCTS)).collect())
                }
            },
        })
        .collect()
}

/// The realistic set: the user's own grant (3 roles, 20 custom permissions over 50 products)
/// and 5 groups with a role and a few permissions each.
fn fixture() -> Vec<(GrantSource, Grant)> {
    let mut grants = vec![(
        GrantSource::Member,
        Grant {
            roles: vec![Role::Developer, Role::BusinessContributor, Role::Marketer],
            permissions: customs(20, 0, PRODUCTS),
        },
    )];
    for g in 0..5 {
        grants.push((
            GrantSource::Group(GroupId::from_uuid(Uuid::from_u128(0x6000 + g as u128))),
            Grant { roles: vec![Role::ALL[(g + 1) % Role::ALL.len()]], permissions: customs(4, g + 1, 10) },
        ));
    }
    grants
}

/// Runs `iterations` access checks (rotating over permissions, products, the "all products"
/// question and both levels) and returns (p50, p99) in microseconds.
pub fn bench_evaluate(iterations: usize) -> (f64, f64) {
    let owned = fixture();
    let grants: Vec<(GrantSource, &Grant)> = owned.iter().map(|(s, g)| (*s, g)).collect();
    let defs: Vec<&'static PermissionDef> = all().collect();
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let def = defs[i % defs.len()];
        let product = if i % 11 == 0 { None } else { Some(product(i % (PRODUCTS + 3))) };
        let required = if i % 2 == 0 { Level::ReadOnly } else { Level::ReadWrite };
        let start = Instant::now();
        black_box(evaluate(false, black_box(&grants), def, product, required));
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    percentiles(samples)
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_has_the_documented_shape() {
        let f = fixture();
        assert_eq!(f.len(), 6);
        assert_eq!(f[0].1.roles.len(), 3);
        assert_eq!(f[0].1.permissions.len(), 20);
        // The benchmark runs (no timing is asserted).
        let (p50, p99) = bench_evaluate(50);
        assert!(p50 <= p99);
        assert_eq!(bench_evaluate(0), (0.0, 0.0));
    }
}
