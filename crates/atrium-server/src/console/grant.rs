//! The permission editor: role checkboxes, the custom permission table (No access / Read only /
//! Read/write, with a derived "Mixed" indicator on each category row), and the product scope.
//!
//! Form encoding: `role` (repeated), `perm.<id>` = `none|read_only|read_write`, `scope` =
//! `all|chosen`, `product` (repeated). The core parses and checks the resulting grant.

use super::FormData;
use atrium_core::access::{self, Grant, GrantInput, Level, PermissionInput, PermissionScope, ProductScope, Program, Role};
use atrium_core::model::Product;

pub struct RoleBox {
    pub id: &'static str,
    pub name: &'static str,
    pub checked: bool,
}

pub struct PermRow {
    pub id: &'static str,
    pub name: &'static str,
    pub read_only: Option<&'static str>,
    pub read_write: Option<&'static str>,
    /// `none`, `read_only` or `read_write`.
    pub level: &'static str,
}

impl PermRow {
    pub fn is(&self, level: &str) -> bool {
        self.level == level
    }
}

pub struct Category {
    pub name: &'static str,
    pub rows: Vec<PermRow>,
    /// The aggregate shown on the category row: a level name, or "Mixed" when rows differ.
    pub summary: &'static str,
}

pub struct ProductBox {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

/// Everything the editor template shows.
pub struct GrantEditor {
    pub roles: Vec<RoleBox>,
    pub categories: Vec<Category>,
    pub all_products: bool,
    pub products: Vec<ProductBox>,
    /// Open the custom permission table when the grant has custom permissions.
    pub custom_open: bool,
    pub error: Option<String>,
}

fn level_name(l: Option<Level>) -> &'static str {
    match l {
        None => "none",
        Some(Level::ReadOnly) => "read_only",
        Some(Level::ReadWrite) => "read_write",
    }
}

fn summary(levels: &[Option<Level>]) -> &'static str {
    if access::mixed(levels) {
        return "Mixed";
    }
    match levels.first().copied().flatten() {
        None => "No access",
        Some(Level::ReadOnly) => "Read only",
        Some(Level::ReadWrite) => "Read/write",
    }
}

impl GrantEditor {
    /// Builds the editor from levels per permission id (`None` = No access).
    fn build(program: Program, roles: &[Role], level: impl Fn(&str) -> Option<Level>, products: &[Product], chosen: Option<&[String]>) -> Self {
        let role_boxes =
            Role::ALL.iter().map(|r| RoleBox { id: r.as_str(), name: r.display_name(program), checked: roles.contains(r) }).collect();
        let mut categories: Vec<Category> = Vec::new();
        let mut custom_open = false;
        for p in access::all() {
            let l = level(p.id);
            // Deprecated and 2018-only permissions are shown only while someone holds them.
            if (p.deprecated || p.legacy) && l.is_none() {
                continue;
            }
            custom_open |= l.is_some();
            let cat = match p.scope {
                PermissionScope::Account => "Account-level permissions",
                PermissionScope::Product => p.category.unwrap_or("Product-level permissions"),
            };
            let row = PermRow { id: p.id, name: p.name, read_only: p.read_only, read_write: p.read_write, level: level_name(l) };
            match categories.iter_mut().find(|c| c.name == cat) {
                Some(c) => c.rows.push(row),
                None => categories.push(Category { name: cat, rows: vec![row], summary: "" }),
            }
        }
        for c in &mut categories {
            let levels: Vec<Option<Level>> = c.rows.iter().map(|r| Level::parse(r.level)).collect();
            c.summary = summary(&levels);
        }
        let all_products = chosen.is_none();
        let products = products
            .iter()
            .map(|p| {
                let id = p.id.to_string();
                ProductBox { checked: chosen.is_some_and(|c| c.contains(&id)), id, name: p.name.to_string() }
            })
            .collect();
        GrantEditor { roles: role_boxes, categories, all_products, products, custom_open, error: None }
    }

    /// An empty editor (for add and create forms).
    pub fn empty(program: Program, products: &[Product]) -> Self {
        Self::build(program, &[], |_| None, products, None)
    }

    /// The editor showing a member's current grant.
    pub fn from_grant(program: Program, g: &Grant, products: &[Product]) -> Self {
        let chosen: Option<Vec<String>> = g.permissions.iter().find_map(|p| match &p.products {
            ProductScope::Products(ids) => Some(ids.iter().map(ToString::to_string).collect()),
            ProductScope::All => None,
        });
        let level = |id: &str| g.permissions.iter().find(|p| p.permission.id == id).map(|p| p.level);
        Self::build(program, &g.roles, level, products, chosen.as_deref())
    }

    /// The editor re-shown with what was posted.
    pub fn from_form(program: Program, f: &FormData, products: &[Product]) -> Self {
        let roles: Vec<Role> = f.all("role").iter().filter_map(|r| Role::parse(r)).collect();
        let chosen = (f.get("scope") == "chosen").then(|| f.all("product"));
        Self::build(program, &roles, |id| Level::parse(f.get(&format!("perm.{id}"))), products, chosen.as_deref())
    }

    pub fn with_error(mut self, e: Option<&str>) -> Self {
        self.error = e.map(str::to_owned);
        self.custom_open |= self.error.is_some();
        self
    }
}

/// The grant a form asks for. Unknown values pass through: the core names them in its error.
pub fn grant_input(f: &FormData) -> GrantInput {
    let chosen = (f.get("scope") == "chosen").then(|| f.all("product"));
    let mut permissions = Vec::new();
    for (k, v) in f.pairs() {
        let Some(id) = k.strip_prefix("perm.") else { continue };
        if v.is_empty() || v == "none" {
            continue;
        }
        let product_level = access::permission(id).is_some_and(|p| p.scope == PermissionScope::Product);
        permissions.push(PermissionInput {
            permission: id.to_owned(),
            level: v.clone(),
            products: if product_level { chosen.clone() } else { None },
        });
    }
    GrantInput { roles: f.all("role"), permissions }
}

/// "Manager, Developer" or "Custom permissions" for the member lists.
pub fn describe(g: &Grant, program: Program) -> String {
    let mut parts: Vec<String> = g.roles.iter().map(|r| r.display_name(program).to_owned()).collect();
    if !g.permissions.is_empty() {
        parts.push(format!("Custom permissions ({})", g.permissions.len()));
    }
    if parts.is_empty() { "No access".into() } else { parts.join(", ") }
}
