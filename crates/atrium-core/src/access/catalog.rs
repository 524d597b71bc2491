//! The permission catalog: standard roles, access levels, and every account-level and
//! product-level custom permission, in one static table (spec `partner-center.md` §9).
//!
//! Names are kept verbatim from the spec because they are identifiers users see; ids are our
//! own stable snake_case keys, used in the API and in storage. Four names exist at both scopes
//! ("Partner services", "Relying parties", "Store sale events", "Xbox devices"); for those the
//! id carries the scope as a prefix (`account_…` / `product_…`) so ids stay unique.

use serde::{Deserialize, Serialize};

/// A standard role (§9.1). The owner is not a role: it is outside the directory and holds
/// everything (§1, A18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Manager,
    Developer,
    BusinessContributor,
    FinanceContributor,
    Marketer,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::Manager, Role::Developer, Role::BusinessContributor, Role::FinanceContributor, Role::Marketer];

    /// The stable id used in the API and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Developer => "developer",
            Role::BusinessContributor => "business_contributor",
            Role::FinanceContributor => "finance_contributor",
            Role::Marketer => "marketer",
        }
    }

    /// Parses a stable id (exact match).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The label shown to people. Hardware accounts call the Manager role "Administrator"
    /// (seed 000 tip, §2).
    pub fn display_name(self, program: Program) -> &'static str {
        match (self, program) {
            (Role::Manager, Program::Hardware) => "Administrator",
            (Role::Manager, Program::Developer) => "Manager",
            (Role::Developer, _) => "Developer",
            (Role::BusinessContributor, _) => "Business Contributor",
            (Role::FinanceContributor, _) => "Finance Contributor",
            (Role::Marketer, _) => "Marketer",
        }
    }
}

/// The program an account belongs to; it only changes labels here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    Developer,
    Hardware,
}

/// An access level (§9.3). "No access" is the absence of a grant, and "Mixed" is a derived
/// display indicator (see [`crate::access::mixed`]); neither is a level.
///
/// Declaration order gives the ordering: `ReadWrite > ReadOnly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    ReadOnly,
    ReadWrite,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::ReadOnly, Level::ReadWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::ReadOnly => "read_only",
            Level::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Whether a permission applies account-wide (§9.4) or can be limited to products (§9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionScope {
    Account,
    Product,
}

/// How a product-level permission applies to the product's add-ons (§9.5): the add-on
/// columns of §9.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AddOn {
    /// Not settable on add-ons: account-level permissions, and product cells that are plain N/A
    /// (e.g. Customer feedback).
    NotApplicable,
    /// Not settable on add-ons because the product setting already covers them (e.g.
    /// Promotional codes, Acquisitions).
    CoveredByParent,
    /// Settable per add-on (add-ons do not inherit the product's selection); `None` where
    /// that add-on level is not offered.
    Levels { read_only: Option<&'static str>, read_write: Option<&'static str> },
}

/// One custom permission. `read_only` / `read_write` describe what each level allows; `None`
/// means the spec offers no such level (N/A, or "read-only grants nothing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDef {
    pub id: &'static str,
    pub name: &'static str,
    pub scope: PermissionScope,
    /// The §9.5 category of product-level permissions; `None` for account-level ones.
    pub category: Option<&'static str>,
    pub read_only: Option<&'static str>,
    pub read_write: Option<&'static str>,
    pub addon: AddOn,
    /// Marked `*`: the feature is not enabled for every account; granting it has no effect
    /// where it is not (§9.3). Enforcing that is up to the feature, not to this catalog.
    pub feature_gated: bool,
    /// Listed as deprecated by the newer docs (§9.4 [new] note). Kept so stored grants load.
    pub deprecated: bool,
    /// Present only in the 2018 table, absent from [new] without comment (§9.4 "[2018 only]").
    pub legacy: bool,
}

impl PermissionDef {
    /// Whether this permission can be granted at `level`.
    pub fn offers(&self, level: Level) -> bool {
        self.description(level).is_some()
    }

    /// What `level` allows, or `None` if not offered.
    pub fn description(&self, level: Level) -> Option<&'static str> {
        match level {
            Level::ReadOnly => self.read_only,
            Level::ReadWrite => self.read_write,
        }
    }

    /// The highest level offered (every catalog entry offers at least one; see the tests).
    pub fn highest_level(&self) -> Level {
        if self.read_write.is_some() { Level::ReadWrite } else { Level::ReadOnly }
    }

    /// The offered levels, lowest first.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        Level::ALL.into_iter().filter(|l| self.offers(*l))
    }

    /// True where the spec says both levels currently behave the same (e.g. Payout summary).
    pub fn levels_identical(&self) -> bool {
        matches!((self.read_only, self.read_write), (Some(a), Some(b)) if a == b)
    }

    /// The add-on read-only description, if the permission can be set on add-ons at that level.
    pub fn addon_read_only(&self) -> Option<&'static str> {
        match self.addon {
            AddOn::Levels { read_only, .. } => read_only,
            _ => None,
        }
    }

    /// The add-on read/write description, if the permission can be set on add-ons at that level.
    pub fn addon_read_write(&self) -> Option<&'static str> {
        match self.addon {
            AddOn::Levels { read_write, .. } => read_write,
            _ => None,
        }
    }
}

pub const ANALYTICS: &str = "Analytics";
pub const MONETIZATION: &str = "Monetization";
pub const PUBLISHING: &str = "Publishing";
pub const XBOX_LIVE: &str = "Xbox Live";

const fn account(
    id: &'static str,
    name: &'static str,
    read_only: Option<&'static str>,
    read_write: Option<&'static str>,
) -> PermissionDef {
    PermissionDef {
        id,
        name,
        scope: PermissionScope::Account,
        category: None,
        read_only,
        read_write,
        addon: AddOn::NotApplicable,
        feature_gated: false,
        deprecated: false,
        legacy: false,
    }
}

const fn product(
    id: &'static str,
    name: &'static str,
    category: &'static str,
    read_only: Option<&'static str>,
    read_write: Option<&'static str>,
    addon: AddOn,
) -> PermissionDef {
    PermissionDef {
        id,
        name,
        scope: PermissionScope::Product,
        category: Some(category),
        read_only,
        read_write,
        addon,
        feature_gated: false,
        deprecated: false,
        legacy: false,
    }
}

const fn gated(p: PermissionDef) -> PermissionDef {
    PermissionDef { feature_gated: true, ..p }
}

/// [2018 only] (§9.4).
const fn legacy(p: PermissionDef) -> PermissionDef {
    PermissionDef { legacy: true, ..p }
}

/// [2018; deprecated] (§9.4): both legacy and explicitly deprecated by [new].
const fn deprecated(p: PermissionDef) -> PermissionDef {
    PermissionDef { deprecated: true, legacy: true, ..p }
}

const fn addon(read_only: Option<&'static str>, read_write: Option<&'static str>) -> AddOn {
    AddOn::Levels { read_only, read_write }
}

const NA: AddOn = AddOn::NotApplicable;
const PARENT: AddOn = AddOn::CoveredByParent;

/// The whole catalog: §9.4 (account level) then §9.6 (product level), in spec order.
static CATALOG: &[PermissionDef] = &[
    // ---- §9.4 account-level permissions ----
    account(
        "account_settings",
        "Account settings",
        Some("View all Account settings pages, including contact info."),
        Some(
            "View all Account settings pages and change contact info and other pages; payout account and tax profile need their own permissions.",
        ),
    ),
    account(
        "account_users",
        "Account users",
        Some("View the account's users."),
        Some("Add users and change existing users."),
    ),
    account(
        "account_ad_performance_report",
        "Account-level ad performance report",
        Some("View the account-level Advertising performance report."),
        None,
    ),
    account("ad_campaigns", "Ad campaigns", Some("View ad campaigns."), Some("Create, manage and view ad campaigns.")),
    legacy(account(
        "ad_mediation",
        "Ad mediation",
        Some("View ad mediation configurations for all products."),
        Some("View and change ad mediation configurations for all products."),
    )),
    deprecated(account("ad_mediation_reports", "Ad mediation reports", Some("View the Ad mediation report."), None)),
    deprecated(account(
        "ad_performance_reports",
        "Ad performance reports",
        Some("View Advertising performance reports for all products."),
        None,
    )),
    legacy(account("ad_units", "Ad units", Some("View ad units."), Some("Create, manage and view ad units."))),
    legacy(account(
        "affiliate_ads",
        "Affiliate ads",
        Some("View affiliate ad usage."),
        Some("Manage and view affiliate ad usage."),
    )),
    deprecated(account(
        "affiliates_performance_reports",
        "Affiliates performance reports",
        Some("View the Affiliates performance report."),
        None,
    )),
    deprecated(account(
        "app_install_ads_reports",
        "App install ads reports",
        Some("View the Ad campaign report."),
        None,
    )),
    legacy(account(
        "community_ads",
        "Community ads",
        Some("View free community ad usage."),
        Some("Create, manage and view free community ad usage."),
    )),
    account(
        "contact_info",
        "Contact info",
        Some("View contact info in Account settings."),
        Some("Edit and view contact info in Account settings."),
    ),
    legacy(account(
        "coppa_compliance",
        "COPPA compliance",
        Some("View each product's \"targeted at children under 13\" selection."),
        Some("Edit and view each product's \"targeted at children under 13\" selection."),
    )),
    account(
        "customer_groups",
        "Customer groups",
        Some("View customer groups (segments and known user groups)."),
        Some("Create, edit and view customer groups."),
    ),
    account(
        "forums_private_space",
        "Forums Private Space",
        Some("Access the account's Private Space on the Xbox Developer Forums."),
        None,
    ),
    gated(account(
        "manage_product_groups",
        "Manage product groups",
        Some("See the new product group page, without creating groups."),
        Some("Create and edit product groups."),
    )),
    account(
        "new_apps",
        "New apps",
        Some("See the new app page, without creating apps."),
        Some("Create new apps by reserving names, create submissions and submit apps to the Store."),
    ),
    gated(account(
        "new_bundles",
        "New bundles",
        Some("See the new bundle page, without creating bundles."),
        Some("Create bundles."),
    )),
    gated(account(
        "order_xbox_dev_kits",
        "Order Xbox Dev Kits",
        None,
        Some("Order dev kits on the Entertainment Developer Store."),
    )),
    gated(account(
        "account_partner_services",
        "Partner services",
        Some("View certificates installed to services to retrieve XTokens."),
        Some("Manage and view certificates installed to services to retrieve XTokens."),
    )),
    account(
        "payout_account",
        "Payout account",
        Some("View payout account information."),
        Some("Edit and view payout account information."),
    ),
    // Both levels currently behave the same (§9.4), so both descriptions are the same.
    account(
        "payout_summary",
        "Payout summary",
        Some("View the Payout summary and download payout reporting."),
        Some("View the Payout summary and download payout reporting."),
    ),
    gated(account(
        "account_relying_parties",
        "Relying parties",
        Some("View relying parties used to retrieve XTokens."),
        Some("Manage and view relying parties used to retrieve XTokens."),
    )),
    gated(account(
        "request_disc",
        "Request disc",
        Some("View game disc requests."),
        Some("Build and view game disc requests."),
    )),
    gated(account(
        "sandboxes",
        "Sandboxes",
        Some("Open the Sandboxes page and view sandboxes and their configurations."),
        Some("Also create, delete and manage sandboxes and their configurations."),
    )),
    legacy(gated(account(
        "account_store_sale_events",
        "Store sale events",
        None,
        Some("Configure automatic inclusion of products in Store sale events."),
    ))),
    account(
        "tax_profile",
        "Tax profile",
        Some("View tax profile information and forms."),
        Some("Fill in tax forms and update the tax profile."),
    ),
    gated(account(
        "test_accounts",
        "Test accounts",
        Some("View Xbox Live test accounts."),
        Some("Create, manage and view Xbox Live test accounts."),
    )),
    account(
        "ticketing_administrator",
        "Ticketing Administrator",
        None,
        Some("View and edit all tickets of the account in the Game Creator Ticketing Portal."),
    ),
    account(
        "account_xbox_devices",
        "Xbox devices",
        Some("View the Xbox development consoles enabled for the account."),
        Some("Add, remove and view the Xbox development consoles enabled for the account."),
    ),
    // ---- §9.6 product-level permissions: Analytics ----
    product(
        "acquisitions",
        "Acquisitions",
        ANALYTICS,
        Some("View the Acquisitions and Add-on acquisitions reports, including near real-time data."),
        None,
        PARENT,
    ),
    product("usage", "Usage", ANALYTICS, Some("View the Usage report."), None, NA),
    product("health", "Health", ANALYTICS, Some("View the Health report, including near real-time data."), None, NA),
    product(
        "customer_feedback",
        "Customer feedback",
        ANALYTICS,
        Some("View the Reviews and Feedback reports; responding needs Contact customer."),
        None,
        NA,
    ),
    product("xbox_analytics", "Xbox analytics", ANALYTICS, Some("View the Xbox analytics report."), None, NA),
    // ---- Monetization ----
    product(
        "promotional_codes",
        "Promotional codes",
        MONETIZATION,
        Some("View promotional code orders and usage for the product and its add-ons."),
        Some("View, manage and create promotional code orders for the product and its add-ons, and view usage."),
        PARENT,
    ),
    product(
        "targeted_offers",
        "Targeted offers",
        MONETIZATION,
        Some("View targeted offers."),
        Some("View, manage and create targeted offers."),
        NA,
    ),
    product(
        "contact_customer",
        "Contact customer",
        MONETIZATION,
        Some("View responses to feedback and reviews (with Customer feedback) and view targeted notifications."),
        Some("Respond to feedback and reviews (with Customer feedback) and create and send targeted notifications."),
        NA,
    ),
    product(
        "experimentation",
        "Experimentation",
        MONETIZATION,
        Some("View experiments (A/B tests) and their data."),
        Some("Create, manage and view experiments and their data."),
        NA,
    ),
    gated(product(
        "product_store_sale_events",
        "Store sale events",
        MONETIZATION,
        Some("View the product's sale event status."),
        Some("Add the product to sale events and configure discounts."),
        addon(
            Some("View the add-on's sale event status."),
            Some("Add the add-on to sale events and configure discounts."),
        ),
    )),
    // ---- Publishing ----
    product(
        "product_setup",
        "Product Setup",
        PUBLISHING,
        Some("View the product setup page."),
        Some("View and edit the product setup page."),
        addon(Some("View the add-on setup page."), Some("View and edit the add-on setup page.")),
    ),
    product(
        "pricing_and_availability",
        "Pricing and availability",
        PUBLISHING,
        Some("View the Pricing and availability page."),
        Some("View and edit the Pricing and availability page."),
        addon(
            Some("View the add-on's Pricing and availability page."),
            Some("View and edit the add-on's Pricing and availability page."),
        ),
    ),
    product(
        "properties",
        "Properties",
        PUBLISHING,
        Some("View the Properties page."),
        Some("View and edit the Properties page."),
        addon(Some("View the add-on's Properties page."), Some("View and edit the add-on's Properties page.")),
    ),
    product(
        "age_ratings",
        "Age ratings",
        PUBLISHING,
        Some("View the Age ratings page."),
        Some("View and edit the Age ratings page."),
        addon(Some("View the add-on's Age ratings page."), Some("View and edit the add-on's Age ratings page.")),
    ),
    product(
        "packages",
        "Packages",
        PUBLISHING,
        Some("View the Packages page."),
        Some("View and edit the Packages page, including uploading packages."),
        addon(
            Some("View the add-on's Packages page, if applicable."),
            Some("View and edit the add-on's Packages page, if applicable."),
        ),
    ),
    product(
        "store_listings",
        "Store listings",
        PUBLISHING,
        Some("View the Store listing pages."),
        Some("View and edit the Store listing pages and add listings for new languages."),
        addon(
            Some("View the add-on's Store listing pages."),
            Some("View and edit the add-on's Store listing pages and add languages."),
        ),
    ),
    // "Read-only grants nothing" (§9.3, §9.6): read-only is not offered.
    product(
        "store_submission",
        "Store submission",
        PUBLISHING,
        None,
        Some("Submit the product to the Store and view certification reports (new and update submissions)."),
        addon(None, Some("Submit the add-on to the Store and view certification reports.")),
    ),
    product(
        "new_submission_creation",
        "New submission creation",
        PUBLISHING,
        None,
        Some("Create new submissions for the product."),
        addon(None, Some("Create new add-on submissions.")),
    ),
    product("new_add_ons", "New add-ons", PUBLISHING, None, Some("Create new add-ons for the product."), NA),
    product(
        "name_reservations",
        "Name reservations",
        PUBLISHING,
        Some("View the Manage app names page."),
        Some("View and edit the Manage app names page, including reserving and deleting names."),
        addon(Some("View the add-on's reserved names."), Some("View and edit the add-on's reserved names.")),
    ),
    product(
        "disc_request",
        "Disc request",
        PUBLISHING,
        Some("View the disc request page."),
        Some("Create disc requests."),
        NA,
    ),
    product(
        "disc_royalties",
        "Disc royalties",
        PUBLISHING,
        Some("View the disc royalties page."),
        Some("Create disc royalties."),
        NA,
    ),
    // ---- Xbox Live (all `*`, all add-on cells N/A) ----
    gated(product(
        "product_relying_parties",
        "Relying Parties",
        XBOX_LIVE,
        Some("View the Relying parties page."),
        Some("View and edit the Relying parties page."),
        NA,
    )),
    gated(product(
        "product_partner_services",
        "Partner Services",
        XBOX_LIVE,
        Some("View the Web services page."),
        Some("View and edit the Web services page."),
        NA,
    )),
    gated(product(
        "xbox_test_accounts",
        "Xbox Test Accounts",
        XBOX_LIVE,
        Some("View the Xbox Test Accounts page."),
        Some("View and edit the Xbox Test Accounts page."),
        NA,
    )),
    // The source table is malformed for the two "per Sandbox" rows; the intent is inferred (§9.6).
    gated(product(
        "xbox_test_accounts_per_sandbox",
        "Xbox Test Accounts per Sandbox",
        XBOX_LIVE,
        Some("View the Xbox Test Accounts page, limited to specified sandboxes."),
        Some("View and edit the Xbox Test Accounts page, limited to specified sandboxes."),
        NA,
    )),
    gated(product(
        "product_xbox_devices",
        "Xbox Devices",
        XBOX_LIVE,
        Some("View the Xbox One development consoles page."),
        Some("View and edit the Xbox One development consoles page."),
        NA,
    )),
    gated(product(
        "xbox_devices_per_sandbox",
        "Xbox Devices per Sandbox",
        XBOX_LIVE,
        Some("View the Xbox One development consoles page, limited to specified sandboxes."),
        Some("View and edit the Xbox One development consoles page, limited to specified sandboxes."),
        NA,
    )),
    gated(product(
        "app_channels",
        "App Channels",
        XBOX_LIVE,
        None,
        Some("Publish promotional video channels to Xbox (OneGuide)."),
        NA,
    )),
    gated(product(
        "service_configuration",
        "Service Configuration",
        XBOX_LIVE,
        Some("View the product's Xbox Live Service configuration page."),
        Some("View and edit the product's Xbox Live Service configuration page."),
        NA,
    )),
    gated(product(
        "tools_access",
        "Tools Access",
        XBOX_LIVE,
        Some("Run Xbox Live tools read-only."),
        Some("Run Xbox Live tools with edit access."),
        NA,
    )),
    gated(product(
        "proprietary_access",
        "Proprietary access",
        XBOX_LIVE,
        Some("View support inquiries."),
        Some("View and edit support inquiries."),
        NA,
    )),
];

/// Looks a permission up by its stable id.
pub fn permission(id: &str) -> Option<&'static PermissionDef> {
    CATALOG.iter().find(|p| p.id == id)
}

/// Every permission, account level first, in spec order.
pub fn all() -> impl Iterator<Item = &'static PermissionDef> {
    CATALOG.iter()
}

// ---- Role bundles ----
//
// The role ⇄ permission mapping is not published (A13), so each bundle is derived from the
// §9.1 role descriptions and feature matrix (Owner / Manager / Developer / Business
// Contributor / Finance Contributor / Marketer). Roles are evaluated as named bundles that apply
// to every product, separately from custom permissions. Add-ons are not modelled separately.

/// Manager: "complete access except changing tax and payout settings" (§9.1 Manager row;
/// matrix rows Payout account, Tax profile and Payout summary are "none"; A3: Manager never
/// edits payout/tax). Everything else at its highest offered level.
const MANAGER_EXCLUDED: &[&str] = &["payout_account", "tax_profile", "payout_summary"];

/// Developer: "upload packages, submit apps and add-ons, view the Usage report" (§9.1 Developer
/// row); matrix: Health view, Usage view, Feedback report & responses view+send, Acquisition none.
const DEVELOPER: &[(&str, Level)] = &[
    ("packages", Level::ReadWrite),
    ("store_submission", Level::ReadWrite),
    ("new_submission_creation", Level::ReadWrite),
    ("new_add_ons", Level::ReadWrite),
    ("product_setup", Level::ReadWrite),
    ("usage", Level::ReadOnly),
    ("health", Level::ReadOnly),
    // Matrix "Feedback report & responses": view + send.
    ("customer_feedback", Level::ReadOnly),
    ("contact_customer", Level::ReadWrite),
];

/// Business Contributor: "view Health and Usage reports" (§9.1 row; matrix Health view, Usage
/// view, everything else none).
const BUSINESS_CONTRIBUTOR: &[(&str, Level)] = &[("health", Level::ReadOnly), ("usage", Level::ReadOnly)];

/// Finance Contributor: "view payout reports, financial info and acquisition reports" (§9.1 row);
/// matrix: Acquisition view, Payout account update, Tax profile update, Payout summary view
/// (A3: Finance Contributor may edit payout and tax).
const FINANCE_CONTRIBUTOR: &[(&str, Level)] = &[
    ("payout_account", Level::ReadWrite),
    ("tax_profile", Level::ReadWrite),
    ("payout_summary", Level::ReadOnly),
    ("acquisitions", Level::ReadOnly),
];

/// Marketer: "view non-financial analytic reports; also respond to customer reviews" (§9.1
/// row). The matrix gives Marketer Feedback view+send but **none** for Health, Usage and
/// Acquisition; the matrix row is more specific than the prose, so Health and Usage are left out.
/// Xbox analytics is a non-financial report the matrix does not mention, so it is included.
const MARKETER: &[(&str, Level)] = &[
    ("customer_feedback", Level::ReadOnly),
    ("contact_customer", Level::ReadWrite),
    ("xbox_analytics", Level::ReadOnly),
];

/// The level `role` grants on `permission` (on every product), if any. No allocation: the
/// evaluator calls this on every check.
pub fn role_level(role: Role, permission: &PermissionDef) -> Option<Level> {
    let table = match role {
        Role::Manager => {
            return if MANAGER_EXCLUDED.contains(&permission.id) { None } else { Some(permission.highest_level()) };
        }
        Role::Developer => DEVELOPER,
        Role::BusinessContributor => BUSINESS_CONTRIBUTOR,
        Role::FinanceContributor => FINANCE_CONTRIBUTOR,
        Role::Marketer => MARKETER,
    };
    table.iter().find(|(id, _)| *id == permission.id).map(|(_, level)| *level)
}

/// Every permission `role` grants, with its level, in catalog order.
pub fn role_permissions(role: Role) -> Vec<(&'static PermissionDef, Level)> {
    all().filter_map(|p| role_level(role, p).map(|l| (p, l))).collect()
}

/// Whether holders of `role` see every product regardless of custom permissions (§9.1, newer
/// overview: Owner, Manager, Developer). The owner is handled by the evaluator.
pub fn roles_see_all_products(role: Role) -> bool {
    matches!(role, Role::Manager | Role::Developer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ACCOUNT_NAMES: &[&str] = &[
        "Account settings",
        "Account users",
        "Account-level ad performance report",
        "Ad campaigns",
        "Ad mediation",
        "Ad mediation reports",
        "Ad performance reports",
        "Ad units",
        "Affiliate ads",
        "Affiliates performance reports",
        "App install ads reports",
        "Community ads",
        "Contact info",
        "COPPA compliance",
        "Customer groups",
        "Forums Private Space",
        "Manage product groups",
        "New apps",
        "New bundles",
        "Order Xbox Dev Kits",
        "Partner services",
        "Payout account",
        "Payout summary",
        "Relying parties",
        "Request disc",
        "Sandboxes",
        "Store sale events",
        "Tax profile",
        "Test accounts",
        "Ticketing Administrator",
        "Xbox devices",
    ];

    const PRODUCT_NAMES: &[&str] = &[
        "Acquisitions",
        "Usage",
        "Health",
        "Customer feedback",
        "Xbox analytics",
        "Promotional codes",
        "Targeted offers",
        "Contact customer",
        "Experimentation",
        "Store sale events",
        "Product Setup",
        "Pricing and availability",
        "Properties",
        "Age ratings",
        "Packages",
        "Store listings",
        "Store submission",
        "New submission creation",
        "New add-ons",
        "Name reservations",
        "Disc request",
        "Disc royalties",
        "Relying Parties",
        "Partner Services",
        "Xbox Test Accounts",
        "Xbox Test Accounts per Sandbox",
        "Xbox Devices",
        "Xbox Devices per Sandbox",
        "App Channels",
        "Service Configuration",
        "Tools Access",
        "Proprietary access",
    ];

    fn names(scope: PermissionScope) -> Vec<&'static str> {
        all().filter(|p| p.scope == scope).map(|p| p.name).collect()
    }

    #[test]
    fn ids_are_unique_snake_case_and_found() {
        let mut seen = HashSet::new();
        for p in all() {
            assert!(seen.insert(p.id), "duplicate id {}", p.id);
            assert!(p.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", p.id);
            assert_eq!(permission(p.id).map(|d| d.name), Some(p.name));
        }
        assert!(permission("nope").is_none());
    }

    #[test]
    fn names_are_unique_within_a_scope() {
        for scope in [PermissionScope::Account, PermissionScope::Product] {
            let mut seen = HashSet::new();
            for n in names(scope) {
                assert!(seen.insert(n.to_lowercase()), "duplicate name {n}");
            }
        }
    }

    #[test]
    fn every_spec_name_is_present_and_nothing_else() {
        let mut account = names(PermissionScope::Account);
        let mut expected: Vec<_> = ACCOUNT_NAMES.to_vec();
        account.sort_unstable();
        expected.sort_unstable();
        assert_eq!(account, expected, "§9.4 account-level names");
        let mut product = names(PermissionScope::Product);
        let mut expected: Vec<_> = PRODUCT_NAMES.to_vec();
        product.sort_unstable();
        expected.sort_unstable();
        assert_eq!(product, expected, "§9.6 product-level names");
    }

    #[test]
    fn every_permission_offers_a_level_and_has_a_consistent_shape() {
        for p in all() {
            assert!(p.read_only.is_some() || p.read_write.is_some(), "{} offers nothing", p.id);
            assert!(p.offers(p.highest_level()), "{}", p.id);
            match p.scope {
                PermissionScope::Account => {
                    assert_eq!(p.category, None, "{}", p.id);
                    assert_eq!(p.addon, AddOn::NotApplicable, "{}", p.id);
                }
                PermissionScope::Product => {
                    assert!(matches!(p.category, Some(ANALYTICS | MONETIZATION | PUBLISHING | XBOX_LIVE)), "{}", p.id);
                }
            }
            if p.category == Some(XBOX_LIVE) {
                assert!(p.feature_gated && p.addon == AddOn::NotApplicable, "{}", p.id);
            }
            if p.deprecated {
                assert!(p.legacy, "{}", p.id);
            }
        }
    }

    #[test]
    fn faithful_spec_details() {
        let get = |id| permission(id).unwrap();
        assert!(get("payout_summary").levels_identical());
        assert_eq!(get("store_submission").read_only, None);
        assert_eq!(get("store_submission").addon_read_only(), None);
        assert!(get("store_submission").addon_read_write().is_some());
        assert_eq!(get("new_add_ons").read_only, None);
        assert_eq!(get("order_xbox_dev_kits").levels().collect::<Vec<_>>(), vec![Level::ReadWrite]);
        assert_eq!(get("usage").levels().collect::<Vec<_>>(), vec![Level::ReadOnly]);
        assert_eq!(get("acquisitions").addon, AddOn::CoveredByParent);
        assert_eq!(get("promotional_codes").addon, AddOn::CoveredByParent);
        assert_eq!(get("customer_feedback").addon, AddOn::NotApplicable);
        let deprecated: Vec<_> = all().filter(|p| p.deprecated).map(|p| p.id).collect();
        assert_eq!(
            deprecated,
            [
                "ad_mediation_reports",
                "ad_performance_reports",
                "affiliates_performance_reports",
                "app_install_ads_reports"
            ]
        );
        assert!(get("sandboxes").feature_gated && !get("account_users").feature_gated);
        assert!(
            get("account_xbox_devices").scope == PermissionScope::Account && !get("account_xbox_devices").feature_gated
        );
    }

    #[test]
    fn roles_and_levels_parse_and_order() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        assert_eq!(Role::parse("Manager"), None);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), serde_json::json!(l.as_str()));
        }
        assert!(Level::ReadWrite > Level::ReadOnly);
    }

    #[test]
    fn hardware_shows_administrator() {
        assert_eq!(Role::Manager.display_name(Program::Hardware), "Administrator");
        assert_eq!(Role::Manager.display_name(Program::Developer), "Manager");
        assert_eq!(Role::FinanceContributor.display_name(Program::Hardware), "Finance Contributor");
    }

    #[test]
    fn bundles_use_offered_levels_of_existing_permissions() {
        for (id, level) in DEVELOPER.iter().chain(BUSINESS_CONTRIBUTOR).chain(FINANCE_CONTRIBUTOR).chain(MARKETER) {
            let p = permission(id).unwrap_or_else(|| panic!("bundle names unknown permission {id}"));
            assert!(p.offers(*level), "{id} does not offer {level:?}");
        }
        for id in MANAGER_EXCLUDED {
            assert!(permission(id).is_some(), "{id}");
        }
    }

    #[test]
    fn manager_has_everything_but_payout_and_tax() {
        let manager = role_permissions(Role::Manager);
        assert_eq!(manager.len(), all().count() - MANAGER_EXCLUDED.len());
        for (p, level) in &manager {
            assert_eq!(*level, p.highest_level());
            assert!(!["payout_account", "tax_profile"].contains(&p.id));
        }
        let finance = role_permissions(Role::FinanceContributor);
        let level_of = |id: &str| finance.iter().find(|(p, _)| p.id == id).map(|(_, l)| *l);
        assert_eq!(level_of("payout_account"), Some(Level::ReadWrite));
        assert_eq!(level_of("tax_profile"), Some(Level::ReadWrite));
        assert_eq!(level_of("payout_summary"), Some(Level::ReadOnly));
        assert!(roles_see_all_products(Role::Manager) && roles_see_all_products(Role::Developer));
        assert!(!roles_see_all_products(Role::Marketer));
    }
}
