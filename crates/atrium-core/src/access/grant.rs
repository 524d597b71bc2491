//! Grants: the roles and custom permissions one member (user, group or application) holds,
//! parsed from a raw input form and validated against the catalog and the account's products.

use super::catalog::{Level, PermissionDef, PermissionScope, Role, permission};
use crate::error::{Error, ErrorCode};
use crate::ids::ProductId;
use serde::{Deserialize, Serialize, Serializer};

/// Which products a product-level custom permission covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProductScope {
    /// The "All products" row: every current **and future** product (§9.5).
    All,
    /// Only these products (never empty when parsed from input).
    Products(Vec<ProductId>),
}

impl ProductScope {
    /// Whether the scope covers `product`.
    pub fn contains(&self, product: ProductId) -> bool {
        match self {
            ProductScope::All => true,
            ProductScope::Products(ids) => ids.contains(&product),
        }
    }
}

/// Rendered as `"all"` or as an array of product ids.
impl Serialize for ProductScope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ProductScope::All => serializer.serialize_str("all"),
            ProductScope::Products(ids) => ids.serialize(serializer),
        }
    }
}

/// One custom permission at one level. Account-level permissions always have `products: All`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPermission {
    pub permission: &'static PermissionDef,
    pub level: Level,
    pub products: ProductScope,
}

/// What one member holds: standard roles and/or custom permissions. Order is the input order,
/// so error targets such as `roles[1]` keep pointing at what the caller sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    pub roles: Vec<Role>,
    pub permissions: Vec<CustomPermission>,
}

impl Grant {
    /// No role and no permission: refused on add and edit (A12, R6).
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.permissions.is_empty()
    }

    /// The storable form: the same JSON shape as [`GrantInput`], so one parser reads both.
    pub fn to_input(&self) -> GrantInput {
        GrantInput {
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            permissions: self
                .permissions
                .iter()
                .map(|p| PermissionInput {
                    permission: p.permission.id.to_owned(),
                    level: p.level.as_str().to_owned(),
                    products: match &p.products {
                        ProductScope::All => None,
                        ProductScope::Products(ids) => Some(ids.iter().map(|id| id.to_string()).collect()),
                    },
                })
                .collect(),
        }
    }

    /// Serializes for storage.
    pub fn to_json(&self) -> String {
        // Built as a `Value` first: rendering a `Value` cannot fail, unlike `to_string` on a
        // struct, so no error path is needed here.
        let permissions: Vec<serde_json::Value> = self
            .to_input()
            .permissions
            .into_iter()
            .map(|p| {
                let mut object = serde_json::Map::new();
                object.insert("permission".into(), p.permission.into());
                object.insert("level".into(), p.level.into());
                if let Some(products) = p.products {
                    object.insert("products".into(), products.into());
                }
                serde_json::Value::Object(object)
            })
            .collect();
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        serde_json::json!({ "roles": roles, "permissions": permissions }).to_string()
    }

    /// Reads a stored grant. Stricter than nothing, looser than input: ids and levels must be
    /// in the catalog, but products need not still exist (a deleted product simply never
    /// matches) and an empty grant loads. Failures are internal errors: stored data is ours.
    pub fn from_json(json: &str) -> Result<Grant, Error> {
        let input: GrantInput =
            serde_json::from_str(json).map_err(|e| Error::internal(format!("stored grant is not valid JSON: {e}")))?;
        input.validate(Mode::Stored).map_err(|e| Error::internal(format!("stored grant is invalid: {e}")))
    }
}

/// The raw grant as adapters receive it (REST body, CLI flags, form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantInput {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<PermissionInput>,
}

/// One raw custom permission. `products` absent or `null` means all products (current and future).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionInput {
    pub permission: String,
    /// `read_only` or `read_write`. "No access" is expressed by leaving the permission out.
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
}

enum Mode<'a> {
    /// From a client: products must belong to the account; empty grants and empty product
    /// lists are refused.
    Input(&'a [ProductId]),
    /// From storage: see [`Grant::from_json`].
    Stored,
}

fn invalid(target: impl Into<String>, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidRequest).with_message(message).with_target(target)
}

impl GrantInput {
    /// Validates against the catalog and the account's products. Every error names the
    /// offending item in `target` (`roles[1]`, `permissions[0].level`,
    /// `permissions[2].products[0]`, or `grant` for an empty grant).
    pub fn parse(&self, known_products: &[ProductId]) -> Result<Grant, Error> {
        self.validate(Mode::Input(known_products))
    }

    fn validate(&self, mode: Mode<'_>) -> Result<Grant, Error> {
        let mut roles = Vec::with_capacity(self.roles.len());
        for (i, raw) in self.roles.iter().enumerate() {
            let target = format!("roles[{i}]");
            let role = Role::parse(raw).ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                invalid(&target, format!("Unknown role '{raw}'. Use one of: {}.", known.join(", ")))
            })?;
            if roles.contains(&role) {
                return Err(invalid(target, format!("The role '{raw}' is listed twice.")));
            }
            roles.push(role);
        }

        let mut permissions: Vec<CustomPermission> = Vec::with_capacity(self.permissions.len());
        for (i, raw) in self.permissions.iter().enumerate() {
            let def = permission(&raw.permission).ok_or_else(|| {
                invalid(format!("permissions[{i}].permission"), format!("Unknown permission '{}'.", raw.permission))
            })?;
            if permissions.iter().any(|p| p.permission.id == def.id) {
                return Err(invalid(
                    format!("permissions[{i}].permission"),
                    format!("The permission '{}' is listed twice; give it once with one level.", def.id),
                ));
            }
            let level = parse_level(def, &raw.level).map_err(|m| invalid(format!("permissions[{i}].level"), m))?;
            let products = match (&raw.products, def.scope) {
                (None, _) => ProductScope::All,
                (Some(_), PermissionScope::Account) => {
                    return Err(invalid(
                        format!("permissions[{i}].products"),
                        format!("'{}' is an account-level permission; it cannot be limited to products.", def.id),
                    ));
                }
                (Some(list), PermissionScope::Product) => ProductScope::Products(parse_products(i, list, &mode)?),
            };
            permissions.push(CustomPermission { permission: def, level, products });
        }

        let grant = Grant { roles, permissions };
        if matches!(mode, Mode::Input(_)) && grant.is_empty() {
            return Err(invalid("grant", "Choose at least one role or one custom permission."));
        }
        Ok(grant)
    }
}

fn parse_level(def: &PermissionDef, raw: &str) -> Result<Level, String> {
    let Some(level) = Level::parse(raw) else {
        return Err(format!(
            "Unknown level '{raw}'. Use read_only or read_write; leave the permission out for no access."
        ));
    };
    if !def.offers(level) {
        let offered: Vec<&str> = def.levels().map(|l| l.as_str()).collect();
        return Err(format!("'{}' cannot be granted at {raw}; it offers: {}.", def.id, offered.join(", ")));
    }
    Ok(level)
}

fn parse_products(i: usize, list: &[String], mode: &Mode<'_>) -> Result<Vec<ProductId>, Error> {
    if list.is_empty() && matches!(mode, Mode::Input(_)) {
        return Err(invalid(
            format!("permissions[{i}].products"),
            "Choose at least one product, or leave products out for all products.",
        ));
    }
    let mut ids = Vec::with_capacity(list.len());
    for (k, raw) in list.iter().enumerate() {
        let target = format!("permissions[{i}].products[{k}]");
        // `ProductId::parse` already reports `invalid_id` with this target.
        let id = ProductId::parse(raw, &target)?;
        if let Mode::Input(known) = mode
            && !known.contains(&id)
        {
            return Err(invalid(target, format!("The product '{id}' is not a product of this account.")));
        }
        if ids.contains(&id) {
            return Err(invalid(target, format!("The product '{id}' is listed twice.")));
        }
        ids.push(id);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn pid(n: u128) -> ProductId {
        ProductId::from_uuid(Uuid::from_u128(n))
    }

    fn input(json: serde_json::Value) -> GrantInput {
        serde_json::from_value(json).unwrap()
    }

    fn target_of(json: serde_json::Value) -> String {
        let err = input(json).parse(&[pid(1), pid(2)]).unwrap_err();
        assert!(!err.message.is_empty());
        err.target.unwrap()
    }

    #[test]
    fn valid_input_parses_and_round_trips_through_json() {
        let i = input(serde_json::json!({
            "roles": ["developer", "marketer"],
            "permissions": [
                {"permission": "account_users", "level": "read_only"},
                {"permission": "store_listings", "level": "read_write", "products": [pid(2).to_string(), pid(1).to_string()]},
                {"permission": "usage", "level": "read_only", "products": null},
            ]
        }));
        let grant = i.parse(&[pid(1), pid(2)]).unwrap();
        assert_eq!(grant.roles, vec![Role::Developer, Role::Marketer]);
        assert_eq!(grant.permissions[0].products, ProductScope::All);
        assert_eq!(grant.permissions[1].products, ProductScope::Products(vec![pid(2), pid(1)]));
        assert_eq!(grant.permissions[2].products, ProductScope::All);
        let stored = grant.to_json();
        assert_eq!(Grant::from_json(&stored).unwrap(), grant);
        assert_eq!(grant.to_input().parse(&[pid(1), pid(2)]).unwrap(), grant);
        // The stored form is also a valid input form.
        assert_eq!(serde_json::from_str::<GrantInput>(&stored).unwrap(), grant.to_input());
    }

    #[test]
    fn roles_only_and_permissions_only_are_fine() {
        assert!(input(serde_json::json!({"roles": ["manager"]})).parse(&[]).is_ok());
        assert!(
            input(serde_json::json!({"permissions": [{"permission": "tax_profile", "level": "read_write"}]}))
                .parse(&[])
                .is_ok()
        );
    }

    #[test]
    fn every_rejection_names_its_target() {
        use serde_json::json;
        assert_eq!(target_of(json!({"roles": ["developer", "owner"]})), "roles[1]");
        assert_eq!(target_of(json!({"roles": ["developer", "developer"]})), "roles[1]");
        assert_eq!(
            target_of(json!({"permissions": [{"permission": "bogus", "level": "read_only"}]})),
            "permissions[0].permission"
        );
        // Level not offered: Usage is read-only; Store submission's read-only grants nothing.
        assert_eq!(
            target_of(json!({"permissions": [{"permission": "usage", "level": "read_write"}]})),
            "permissions[0].level"
        );
        assert_eq!(
            target_of(json!({"roles": ["marketer"], "permissions": [
                {"permission": "usage", "level": "read_only"},
                {"permission": "store_submission", "level": "read_only"}]})),
            "permissions[1].level"
        );
        assert_eq!(
            target_of(json!({"permissions": [{"permission": "usage", "level": "no_access"}]})),
            "permissions[0].level"
        );
        assert_eq!(
            target_of(
                json!({"permissions": [{"permission": "payout_account", "level": "read_only", "products": [pid(1).to_string()]}]})
            ),
            "permissions[0].products"
        );
        assert_eq!(
            target_of(json!({"permissions": [{"permission": "usage", "level": "read_only", "products": []}]})),
            "permissions[0].products"
        );
        let not_guid = input(json!({"permissions": [
            {"permission": "usage", "level": "read_only"},
            {"permission": "health", "level": "read_only"},
            {"permission": "packages", "level": "read_only", "products": ["not-a-guid"]}]}))
        .parse(&[pid(1)])
        .unwrap_err();
        assert_eq!(not_guid.target.as_deref(), Some("permissions[2].products[0]"));
        assert_eq!(not_guid.code, ErrorCode::InvalidId);
        assert_eq!(
            target_of(
                json!({"permissions": [{"permission": "packages", "level": "read_only", "products": [pid(1).to_string(), pid(9).to_string()]}]})
            ),
            "permissions[0].products[1]"
        );
        assert_eq!(
            target_of(
                json!({"permissions": [{"permission": "packages", "level": "read_only", "products": [pid(1).to_string(), pid(1).to_string()]}]})
            ),
            "permissions[0].products[1]"
        );
        assert_eq!(
            target_of(json!({"permissions": [
                {"permission": "usage", "level": "read_only"},
                {"permission": "usage", "level": "read_only", "products": [pid(1).to_string()]}]})),
            "permissions[1].permission"
        );
        assert_eq!(target_of(json!({})), "grant");
        assert_eq!(target_of(json!({"roles": [], "permissions": []})), "grant");
    }

    #[test]
    fn validation_errors_are_invalid_request() {
        let err = input(serde_json::json!({"roles": ["x"]})).parse(&[]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.message.contains("manager"), "lists the valid roles: {}", err.message);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<GrantInput>(serde_json::json!({"roles": [], "extra": 1})).is_err());
        assert!(
            serde_json::from_value::<GrantInput>(
                serde_json::json!({"permissions": [{"permission": "usage", "level": "read_only", "x": 1}]})
            )
            .is_err()
        );
    }

    #[test]
    fn stored_grants_load_even_when_products_are_gone() {
        let stored = serde_json::json!({"roles": [], "permissions": [
            {"permission": "packages", "level": "read_write", "products": [pid(7).to_string()]}]})
        .to_string();
        let grant = Grant::from_json(&stored).unwrap();
        assert_eq!(grant.permissions[0].products, ProductScope::Products(vec![pid(7)]));
        let err = Grant::from_json(r#"{"roles":["wizard"]}"#).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(Grant::from_json("not json").is_err());
    }

    #[test]
    fn product_scope_serializes_as_all_or_ids() {
        assert_eq!(serde_json::to_value(ProductScope::All).unwrap(), serde_json::json!("all"));
        assert_eq!(
            serde_json::to_value(ProductScope::Products(vec![pid(1)])).unwrap(),
            serde_json::json!([pid(1).to_string()])
        );
    }
}
