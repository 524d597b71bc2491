//! The authorization matrix: every account, invitation, subscription, provisioning-token, Graph-permission, sign-in-log and passkey endpoint (one row each)
//! × every kind of caller, in one table: the REST API and the console's pages and forms.
//! Each cell is the expected outcome and the test checks every cell, on both backends.
//!
//! Console rows (paths outside `/api/`) are requested with the column's console session (the
//! session cookie, and the CSRF token on posts) and a same-origin `Origin`; their body is a
//! form. A console success is a page (2xx) or a redirect elsewhere than the sign-in page; a
//! refusal is the console's error page (or the form again) with the service's status.
//!
//! Columns: the owner; the Manager (a global admin of the tenant, signed in through it);
//! Developer; Business Contributor; Finance Contributor; Marketer; a custom read-only member
//! (Account settings and Account users read-only); a custom read/write member scoped to one
//! product (Packages and Store listings on Game One); a member of another account; anonymous.
//! For subscriptions (seed 003) the owner owns `{sub}`, which trusts the account's tenant, and
//! the Developer is its co-administrator.

use crate::accounts::{add, account_with_manager, create_account};
use crate::console::{Browser, csrf_of};
use crate::helpers::{OWNER_PASSWORD, TestApp};
use crate::subscriptions::{create_subscription, map_directory, request_and_consent};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN};
use serde_json::{Value, json};

api_tests!(authorization_matrix);

/// 2xx (or a console redirect), 403, 404, 401, and the console's redirect to its sign-in page.
#[derive(Clone, Copy, Debug, PartialEq)]
enum E {
    Ok,
    Forbidden,
    NotFound,
    Unauth,
    SignIn,
}
use E::{Forbidden as F, NotFound as N, Ok as O, SignIn as S, Unauth as U};

const COLUMNS: [&str; 10] = ["owner", "manager", "developer", "business_contributor", "finance_contributor", "marketer", "custom_read_only", "custom_rw_one_product", "other_account", "anonymous"];

/// What a row needs created fresh for each cell, so that cells do not depend on each other.
#[derive(Clone, Copy)]
enum Prep {
    None,
    /// A directory user of the account's tenant (not a member): `{x}`.
    User,
    /// A directory user added as Developer: `{x}`.
    Member,
    /// A directory group added as Developer: `{x}`.
    GroupMember,
    /// A directory application added as Developer: `{x}` (its object id).
    AppMember,
    /// A tenant created from the account: `{x}`.
    AccountTenant,
    /// A new tenant with an association started by the caller: `{x}` is the token.
    AssociationToken,
    /// A tenant (not associated) whose user `{x}` can prove credentials.
    ForeignTenant,
    /// A product: `{x}`.
    Product,
    /// A pending invitation sent by the Manager: `{x}`.
    Invitation,
    /// A new subscription of the owner: `{x}`.
    Subscription,
    /// A new subscription of the owner that asked to use the account's tenant: `{x}` is the consent code.
    ConsentCode,
    /// A new subscription of the owner whose request the account's tenant consented to: `{x}`.
    ConsentedSubscription,
    /// A user of the account's tenant: `{x}` is its userPrincipalName.
    DirectoryUserEmail,
    /// A user of the account's tenant, co-administrator of `{sub}`: `{x}`.
    Coadmin,
    /// A provisioning token of the account's tenant, created by its global admin: `{x}`.
    ProvisioningToken,
    /// An application of the account's tenant (not a member): `{x}` is its appId.
    DirectoryApp,
    /// An application of the account's tenant, co-administrator of `{sub}`: `{x}` is its appId.
    AppCoadmin,
    /// A passkey of the Developer column's user: `{x}`.
    DeveloperPasskey,
    /// A registration ceremony of the column's user (the owner's for anonymous) and a
    /// software authenticator's answer: `{x}` is the whole body.
    OwnPasskeyRegistration,
    /// A new passkey of the Developer's and its answer to a sign-in ceremony: `{x}` is the body.
    DeveloperPasskeyAssertion,
    /// An application of the account's tenant granted Microsoft Graph's User.Read.All: `{x}`.
    GraphGrantedApp,
}

struct Row {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    prep: Prep,
    expect: [E; 10],
}

fn rows() -> Vec<Row> {
    let r = |method: Method, path, body, prep, expect| Row { method, path, body, prep, expect };
    vec![
        // Not tied to one account: everyone lists their own; only personal accounts open one.
        r(Method::GET, "/api/v1/accounts", None, Prep::None, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::POST, "/api/v1/accounts", Some(r#"{"name":"Account {n}"}"#), Prep::None, [O, F, F, F, F, F, F, F, F, U]),
        r(Method::GET, "/api/v1/catalog", None, Prep::None, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::GET, "/api/v1/accounts/{acc}", None, Prep::None, [O, O, O, O, O, O, O, O, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/tenants", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/tenants",
          Some(r#"{"displayName":"T {n}","domainPrefix":"mx{n}","globalAdmin":{"givenName":"A","surname":"B","username":"admin","password":"Adm1n-Passw0rd!"}}"#),
          Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/tenants/associations", Some(r#"{"tenant":"{x}","username":"frank","password":"Us3r-Passw0rd!"}"#),
          Prep::ForeignTenant, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/tenants/associations/confirm", Some(r#"{"token":"{x}"}"#), Prep::AssociationToken, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::DELETE, "/api/v1/accounts/{acc}/tenants/{x}", None, Prep::AccountTenant, [O, O, F, F, F, F, F, F, N, U]),
        // "Add existing users" lists a tenant's directory: Account users readers signed in through it.
        r(Method::GET, "/api/v1/accounts/{acc}/tenants/{tid}/users", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/tenants/{tid}/groups", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/tenants/{tid}/applications", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/members", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members", Some(r#"{"principals":[{"type":"user","id":"{x}","tenantId":"{tid}"}],"grant":{"roles":["developer"]}}"#),
          Prep::User, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members/users", Some(r#"{"userPrincipalName":"new{n}","grant":{"roles":["developer"]}}"#),
          Prep::None, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members/applications", Some(r#"{"displayName":"App {n}","grant":{"roles":["developer"]}}"#),
          Prep::None, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members/groups", Some(r#"{"displayName":"Group {n}","grant":{"roles":["developer"]}}"#),
          Prep::None, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::PATCH, "/api/v1/accounts/{acc}/members/user/{x}", Some(r#"{"grant":{"roles":["marketer"]}}"#), Prep::Member, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::DELETE, "/api/v1/accounts/{acc}/members/user/{x}", None, Prep::Member, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members/user/{x}/delete-from-organization", Some("{}"), Prep::Member, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/members/user/{x}/reset-password", Some("{}"), Prep::Member, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/members/user/{dev}/activity", None, Prep::None, [O, F, F, F, F, F, F, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/products", None, Prep::None, [O, O, O, O, O, O, O, O, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/products", Some(r#"{"name":"Product {n}"}"#), Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::DELETE, "/api/v1/accounts/{acc}/products/{x}", None, Prep::Product, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/access/check", Some(r#"{"permission":"packages","product":"{p1}"}"#), Prep::None, [O, O, O, O, O, O, O, O, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/access/check", Some(r#"{"principal":{"type":"user","id":"{dev}","tenantId":"{tid}"},"permission":"usage"}"#),
          Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/access/check-batch", Some(r#"{"checks":[{"permission":"usage"}]}"#), Prep::None, [O, O, O, O, O, O, O, O, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/audit", None, Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        // Invitations need a global admin signed in through the tenant, like creating users.
        r(Method::POST, "/api/v1/accounts/{acc}/invitations", Some(r#"{"emails":"g{n}@example.com","grant":{"roles":["developer"]}}"#),
          Prep::None, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/invitations", None, Prep::None, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/invitations/{x}", None, Prep::Invitation, [O, O, F, F, F, F, O, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/invitations/{x}/resend", Some("{}"), Prep::Invitation, [F, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/accounts/{acc}/invitations/{x}/revoke", Some("{}"), Prep::Invitation, [F, O, F, F, F, F, F, F, N, U]),
        // The outbox spans every tenant: instance administrators only.
        r(Method::GET, "/api/v1/mail", None, Prep::None, [O, F, F, F, F, F, F, F, F, U]),
        // Subscriptions (seed 003): owner-only changes; others are not told the subscription exists.
        r(Method::GET, "/api/v1/subscriptions", None, Prep::None, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::POST, "/api/v1/subscriptions", Some(r#"{"name":"Subscription {n}"}"#), Prep::None, [O, F, F, F, F, F, F, F, F, U]),
        r(Method::GET, "/api/v1/subscriptions/{sub}", None, Prep::None, [O, N, O, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{sub}/directory-requests", Some(r#"{"tenant":"personal.onatrium.local"}"#), Prep::None, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/directory-consents/review", Some(r#"{"code":"{x}"}"#), Prep::ConsentCode, [F, O, F, F, F, F, F, F, F, U]),
        r(Method::POST, "/api/v1/directory-consents", Some(r#"{"code":"{x}"}"#), Prep::ConsentCode, [F, O, F, F, F, F, F, F, F, U]),
        r(Method::GET, "/api/v1/subscriptions/{x}/directory-change?tenantId={tid}", None, Prep::ConsentedSubscription, [O, N, N, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{x}/directory-change", Some(r#"{"tenantId":"{tid}"}"#), Prep::ConsentedSubscription, [O, N, N, N, N, N, N, N, N, U]),
        r(Method::GET, "/api/v1/subscriptions/{sub}/coadministrators", None, Prep::None, [O, N, O, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{sub}/coadministrators", Some(r#"{"email":"{x}"}"#), Prep::DirectoryUserEmail, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::DELETE, "/api/v1/subscriptions/{sub}/coadministrators/{x}", None, Prep::Coadmin, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::GET, "/api/v1/subscriptions/{sub}/app-coadministrators", None, Prep::None, [O, N, O, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{sub}/app-coadministrators", Some(r#"{"appId":"{x}"}"#), Prep::DirectoryApp, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::DELETE, "/api/v1/subscriptions/{sub}/app-coadministrators/{x}", None, Prep::AppCoadmin, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{x}/disable", None, Prep::Subscription, [O, N, N, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/subscriptions/{x}/enable", None, Prep::Subscription, [O, N, N, N, N, N, N, N, N, U]),
        r(Method::GET, "/api/v1/subscriptions/{sub}/audit", None, Prep::None, [O, N, F, N, N, N, N, N, N, U]),
        r(Method::GET, "/api/v1/accounts/{acc}/deployment/subscriptions", None, Prep::None, [O, O, O, O, O, O, O, O, N, U]),

        // ---------------------------------------------------------------- the console
        // The account switcher; only personal accounts open one.
        r(Method::GET, "/accounts", None, Prep::None, [O, O, O, O, O, O, O, O, O, S]),
        r(Method::POST, "/accounts", Some("name=Account+{n}"), Prep::None, [O, F, F, F, F, F, F, F, F, S]),
        // Only a redirect to the account's Users page, which answers for the account.
        r(Method::GET, "/accounts/{acc}", None, Prep::None, [O, O, O, O, O, O, O, O, O, S]),
        // Tenants (Account settings read; changes: Manager or owner).
        r(Method::GET, "/accounts/{acc}/tenants", None, Prep::None, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::GET, "/accounts/{acc}/tenants/new", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/new",
          Some("displayName=T+{n}&domainPrefix=cx{n}&globalAdmin.givenName=A&globalAdmin.surname=B&globalAdmin.username=admin&globalAdmin.password=Adm1n-Passw0rd!"),
          Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/tenants/associate", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/associate", Some("tenant={x}&username=frank&password=Us3r-Passw0rd!"), Prep::ForeignTenant, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/associate/confirm", Some("token={x}"), Prep::AssociationToken, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/tenants/{x}/remove", None, Prep::AccountTenant, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/{x}/remove", Some(""), Prep::AccountTenant, [O, O, F, F, F, F, F, F, N, S]),
        // User management: the lists need Account users read; changes read/write.
        r(Method::GET, "/accounts/{acc}/users", None, Prep::None, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::GET, "/accounts/{acc}/groups", None, Prep::None, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::GET, "/accounts/{acc}/applications", None, Prep::None, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::GET, "/accounts/{acc}/users/add", None, Prep::None, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::POST, "/accounts/{acc}/users/add", Some("tenant={tid}&principal={x}&role=developer"), Prep::User, [O, O, F, F, F, F, F, F, N, S]),
        // The create forms show to every member (their Save is disabled with the reason); the
        // posts need a global admin signed in through the tenant.
        r(Method::GET, "/accounts/{acc}/users/new", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/users/new", Some("userPrincipalName=cnew{n}&givenName=New&surname=User&role=developer"), Prep::None, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/groups/new", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/groups/new", Some("displayName=CGroup+{n}&role=developer"), Prep::None, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/applications/new", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/applications/new", Some("displayName=CApp+{n}&role=developer"), Prep::None, [F, O, F, F, F, F, F, F, N, S]),
        // One member.
        r(Method::GET, "/accounts/{acc}/members/user/{x}", None, Prep::Member, [O, O, F, F, F, F, O, F, N, S]),
        // Edit access and Remove are not offered where their Save is refused (the services' answer).
        r(Method::GET, "/accounts/{acc}/members/user/{x}/access", None, Prep::Member, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/user/{x}/access", Some("role=marketer"), Prep::Member, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/members/user/{x}/remove", None, Prep::Member, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/user/{x}/remove", Some(""), Prep::Member, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/user/{x}/reset-password", Some(""), Prep::Member, [F, O, F, F, F, F, F, F, N, S]),
        // Directory edits (seed 002) and Delete from organization: a global admin signed in
        // through the member's tenant.
        r(Method::GET, "/accounts/{acc}/members/user/{x}/edit", None, Prep::Member, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/user/{x}/edit", Some("givenName=Renamed&surname=User"), Prep::Member, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/members/user/{x}/delete", None, Prep::Member, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/user/{x}/delete", Some(""), Prep::Member, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/members/group/{x}/edit", None, Prep::GroupMember, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/group/{x}/edit", Some("displayName=Renamed+{n}"), Prep::GroupMember, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/members/application/{x}/edit", None, Prep::AppMember, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/members/application/{x}/edit", Some("replyUrls=https%3A%2F%2Fedit{n}.example.com%2Fcb&appIdUri=api%3A%2F%2Fedit{n}"), Prep::AppMember,
          [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/members/user/{dev}/history", None, Prep::None, [O, F, F, F, F, F, F, F, N, S]),
        // Invitations.
        r(Method::GET, "/accounts/{acc}/users/invite", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/users/invite", Some("emails=cg{n}%40example.com&role=developer"), Prep::None, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/invitations/{x}/resend", Some(""), Prep::Invitation, [F, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/invitations/{x}/revoke", None, Prep::Invitation, [O, O, F, F, F, F, O, F, N, S]),
        r(Method::POST, "/accounts/{acc}/invitations/{x}/revoke", Some(""), Prep::Invitation, [F, O, F, F, F, F, F, F, N, S]),
        // Products and the audit log.
        r(Method::GET, "/accounts/{acc}/products", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),
        r(Method::POST, "/accounts/{acc}/products", Some("name=CProduct+{n}"), Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/products/{x}/delete", Some(""), Prep::Product, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/audit", None, Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        // Subscriptions (seed 003), as in the API.
        r(Method::GET, "/subscriptions", None, Prep::None, [O, O, O, O, O, O, O, O, O, S]),
        r(Method::POST, "/subscriptions", Some("name=CSubscription+{n}"), Prep::None, [O, F, F, F, F, F, F, F, F, S]),
        r(Method::GET, "/subscriptions/{sub}", None, Prep::None, [O, N, O, N, N, N, N, N, N, S]),
        r(Method::GET, "/subscriptions/{sub}/use-directory", None, Prep::None, [O, N, O, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{sub}/use-directory", Some("tenant=personal.onatrium.local"), Prep::None, [O, N, F, N, N, N, N, N, N, S]),
        r(Method::GET, "/directory-consent", None, Prep::None, [O, O, O, O, O, O, O, O, O, S]),
        r(Method::POST, "/directory-consent/review", Some("code={x}"), Prep::ConsentCode, [F, O, F, F, F, F, F, F, F, S]),
        r(Method::POST, "/directory-consent/continue", Some("code={x}"), Prep::ConsentCode, [F, O, F, F, F, F, F, F, F, S]),
        r(Method::GET, "/subscriptions/{x}/directory/confirm?tenantId={tid}", None, Prep::ConsentedSubscription, [O, N, N, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{x}/directory/confirm", Some("tenantId={tid}"), Prep::ConsentedSubscription, [O, N, N, N, N, N, N, N, N, S]),
        r(Method::GET, "/subscriptions/{sub}/administrators", None, Prep::None, [O, N, O, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{sub}/administrators", Some("email={x}"), Prep::DirectoryUserEmail, [O, N, F, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{sub}/administrators/{x}/remove", Some(""), Prep::Coadmin, [O, N, F, N, N, N, N, N, N, S]),
        // ARM (issue 13) shares these paths: with `api-version` the request is ARM's, which takes
        // only ARM bearer tokens, never a console session (its own tests cover its callers).
        r(Method::GET, "/subscriptions?api-version=2022-12-01", None, Prep::None, [U, U, U, U, U, U, U, U, U, U]),
        r(Method::GET, "/subscriptions/{sub}?api-version=2022-12-01", None, Prep::None, [U, U, U, U, U, U, U, U, U, U]),
        r(Method::GET, "/tenants?api-version=2022-12-01", None, Prep::None, [U, U, U, U, U, U, U, U, U, U]),
        r(Method::GET, "/subscriptions/{x}/disable", None, Prep::Subscription, [O, N, N, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{x}/disable", Some(""), Prep::Subscription, [O, N, N, N, N, N, N, N, N, S]),
        r(Method::POST, "/subscriptions/{x}/enable", Some(""), Prep::Subscription, [O, N, N, N, N, N, N, N, N, S]),
        r(Method::GET, "/accounts/{acc}/deployment", None, Prep::None, [O, O, O, O, O, O, O, O, N, S]),

        // ---------------------------------------------------------------- Graph permissions (issue 13)
        // Admin consent is the tenant's global admin's (or an instance admin's); its users may read it.
        r(Method::GET, "/api/v1/tenants/{tid}/applications/{x}/graph-permissions", None, Prep::AppMember, [O, O, O, O, O, O, O, O, N, U]),
        r(Method::POST, "/api/v1/tenants/{tid}/applications/{x}/graph-permissions", Some(r#"{"permissions":["User.Read.All"]}"#), Prep::AppMember, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::DELETE, "/api/v1/tenants/{tid}/applications/{x}/graph-permissions/User.Read.All", None, Prep::GraphGrantedApp, [O, O, F, F, F, F, F, F, N, U]),
        // ---------------------------------------------------------------- provisioning (SCIM)
        // Last: a token makes the account's tenant directory-synced (R5), after which the rows
        // above could no longer create its users. The tenant's global admin, or an instance admin.
        r(Method::GET, "/api/v1/tenants/{tid}/provisioning/tokens", None, Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::POST, "/api/v1/tenants/{tid}/provisioning/tokens", Some(r#"{"name":"Matrix {n}"}"#), Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::DELETE, "/api/v1/tenants/{tid}/provisioning/tokens/{x}", None, Prep::ProvisioningToken, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::GET, "/accounts/{acc}/tenants/{tid}/provisioning", None, Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/{tid}/provisioning/tokens", Some("name=CMatrix+{n}&validDays=30"), Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::GET, "/accounts/{acc}/tenants/{tid}/provisioning/tokens/{x}/revoke", None, Prep::ProvisioningToken, [O, O, F, F, F, F, F, F, N, S]),
        r(Method::POST, "/accounts/{acc}/tenants/{tid}/provisioning/tokens/{x}/revoke", Some(""), Prep::ProvisioningToken, [O, O, F, F, F, F, F, F, N, S]),
        // ---------------------------------------------------------------- sign-in logs (issue 16)
        r(Method::GET, "/api/v1/sign-ins?tenantId={tid}", None, Prep::None, [O, O, F, F, F, F, F, F, N, U]),
        r(Method::GET, "/accounts/{acc}/tenants/{tid}/sign-ins", None, Prep::None, [O, O, F, F, F, F, F, F, N, S]),
        // ---------------------------------------------------------------- passkeys (issue 16): one's own only
        r(Method::GET, "/api/v1/me/passkeys", None, Prep::None, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::POST, "/api/v1/me/passkeys/begin", Some("{}"), Prep::None, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::PATCH, "/api/v1/me/passkeys/{x}", Some(r#"{"name":"Renamed {n}"}"#), Prep::DeveloperPasskey, [N, N, O, N, N, N, N, N, N, U]),
        r(Method::DELETE, "/api/v1/me/passkeys/{x}", None, Prep::DeveloperPasskey, [N, N, O, N, N, N, N, N, N, U]),
        r(Method::POST, "/api/v1/me/passkeys", Some("{x}"), Prep::OwnPasskeyRegistration, [O, O, O, O, O, O, O, O, O, U]),
        r(Method::POST, "/api/v1/sign-in/passkey/begin", Some("{}"), Prep::None, [O, O, O, O, O, O, O, O, O, O]),
        r(Method::POST, "/api/v1/sign-in/passkey", Some("{x}"), Prep::DeveloperPasskeyAssertion, [O, O, O, O, O, O, O, O, O, O]),
        r(Method::GET, "/security-info/passkeys/{x}/remove", None, Prep::DeveloperPasskey, [N, N, O, N, N, N, N, N, N, S]),
        r(Method::POST, "/security-info/passkeys/{x}/rename", Some("name=Renamed+{n}"), Prep::DeveloperPasskey, [N, N, O, N, N, N, N, N, N, S]),
        r(Method::POST, "/security-info/passkeys/{x}/remove", Some(""), Prep::DeveloperPasskey, [N, N, O, N, N, N, N, N, N, S]),
    ]
}

/// A console session: its cookie and CSRF token.
struct ConsoleSession {
    cookie: String,
    csrf: String,
}

/// Each column's console session (none for anonymous), signed in like a browser.
async fn console_sessions(app: &TestApp) -> Vec<Option<ConsoleSession>> {
    let contoso = "contoso.onatrium.local";
    let logins = [
        ("personal.onatrium.local", app.owner_upn.as_str(), OWNER_PASSWORD),
        (contoso, "admin", "Adm1n-Passw0rd!"),
        (contoso, "dev", "Us3r-Passw0rd!"),
        (contoso, "bc", "Us3r-Passw0rd!"),
        (contoso, "fc", "Us3r-Passw0rd!"),
        (contoso, "mkt", "Us3r-Passw0rd!"),
        (contoso, "ro", "Us3r-Passw0rd!"),
        (contoso, "rwp", "Us3r-Passw0rd!"),
        ("elsewhere.onatrium.local", "boss", "Adm1n-Passw0rd!"),
    ];
    let mut out = Vec::new();
    for (tenant, user, password) in logins {
        let (b, _) = Browser::sign_in(app, tenant, user, password).await;
        let (status, html, _) = b.get("/accounts").await;
        assert_eq!(status, 200, "{user} of {tenant} reaches the console");
        out.push(Some(ConsoleSession { csrf: csrf_of(&html), cookie: b.cookie }));
    }
    out.push(None);
    out
}

/// A console request as a browser makes it: GET, or a same-origin form post with the token.
async fn console_request(app: &TestApp, method: Method, path: &str, session: Option<&ConsoleSession>, form: Option<String>) -> (u16, Option<String>, String) {
    let mut req = app.no_redirect.request(method, format!("{}{}", app.base, path));
    if let Some(s) = session {
        req = req.header(COOKIE, &s.cookie);
    }
    if let Some(form) = form {
        let body = match session {
            Some(s) if form.is_empty() => format!("csrf={}", s.csrf),
            Some(s) => format!("{form}&csrf={}", s.csrf),
            None => form,
        };
        req = req.header(CONTENT_TYPE, "application/x-www-form-urlencoded").header(ORIGIN, &app.base).body(body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
    (status, location, res.text().await.unwrap())
}

struct Fixture {
    acc: String,
    tid: String,
    p1: String,
    dev_user: String,
    tokens: Vec<Option<String>>,
    owner: String,
    admin: String,
    sub: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.owner().await;
    let (acc, tid, admin) = account_with_manager(app, &owner, "contoso").await;
    let p1 = app.post(&format!("/api/v1/accounts/{acc}/products"), &owner, json!({"name": "Game One"})).await.body["id"].as_str().unwrap().to_owned();
    let grants = [
        ("dev", json!({"roles": ["developer"]})),
        ("bc", json!({"roles": ["business_contributor"]})),
        ("fc", json!({"roles": ["finance_contributor"]})),
        ("mkt", json!({"roles": ["marketer"]})),
        ("ro", json!({"permissions": [{"permission": "account_settings", "level": "read_only"}, {"permission": "account_users", "level": "read_only"}]})),
        ("rwp", json!({"permissions": [{"permission": "packages", "level": "read_write", "products": [p1]},
                                       {"permission": "store_listings", "level": "read_write", "products": [p1]}]})),
    ];
    let mut tokens = vec![Some(owner.clone()), Some(admin.clone())];
    let mut dev_user = String::new();
    for (alias, grant) in grants {
        let id = app.create_user(&admin, &tid, alias).await["id"].as_str().unwrap().to_owned();
        // The owner grants Finance Contributor: a Manager does not hold payout and tax (R8).
        add(app, &owner, &acc, json!([{"type": "user", "id": id, "tenantId": tid}]), grant).await;
        if alias == "dev" {
            dev_user = id;
        }
        tokens.push(Some(app.token("contoso.onatrium.local", alias, "Us3r-Passw0rd!").await));
    }
    let (_, _, other_manager) = {
        let other = create_account(app, &owner, "Another account").await;
        let r = app
            .post(&format!("/api/v1/accounts/{other}/tenants"), &owner,
                  json!({"displayName": "Other", "domainPrefix": "elsewhere", "globalAdmin": {"givenName": "O", "surname": "M", "username": "boss", "password": "Adm1n-Passw0rd!"}}))
            .await;
        // Its first global admin is a Manager of the account it was created from (seed 000).
        let other_tid = r.body["tenant"]["id"].as_str().unwrap().to_owned();
        (other, other_tid, app.token("elsewhere.onatrium.local", "boss", "Adm1n-Passw0rd!").await)
    };
    tokens.push(Some(other_manager));
    tokens.push(None);
    let sub = create_subscription(app, &owner, "Matrix").await;
    map_directory(app, &owner, &sub, &tid, &admin).await;
    app.post(&format!("/api/v1/subscriptions/{sub}/coadministrators"), &owner, json!({"email": "dev@contoso.onatrium.local"})).await.ok();
    Fixture { acc, tid, p1, dev_user, tokens, owner, admin, sub }
}

async fn prepare(app: &TestApp, f: &Fixture, prep: Prep, col: usize, n: &str) -> String {
    match prep {
        Prep::None => String::new(),
        Prep::User => app.create_user(&f.admin, &f.tid, &format!("u{n}")).await["id"].as_str().unwrap().to_owned(),
        Prep::Member => {
            let id = app.create_user(&f.admin, &f.tid, &format!("m{n}")).await["id"].as_str().unwrap().to_owned();
            add(app, &f.owner, &f.acc, json!([{"type": "user", "id": id, "tenantId": f.tid}]), json!({"roles": ["developer"]})).await;
            id
        }
        Prep::GroupMember => {
            let r = app.post(&format!("/api/v1/tenants/{}/groups", f.tid), &f.admin, json!({"displayName": format!("Group {n}")})).await;
            let id = r.ok()["id"].as_str().unwrap().to_owned();
            add(app, &f.owner, &f.acc, json!([{"type": "group", "id": id, "tenantId": f.tid}]), json!({"roles": ["developer"]})).await;
            id
        }
        Prep::AppMember => {
            let r = app.post(&format!("/api/v1/tenants/{}/applications", f.tid), &f.admin, json!({"displayName": format!("App {n}")})).await;
            let id = r.ok()["id"].as_str().unwrap().to_owned();
            add(app, &f.owner, &f.acc, json!([{"type": "application", "id": r.body["appId"], "tenantId": f.tid}]), json!({"roles": ["developer"]})).await;
            id
        }
        Prep::GraphGrantedApp => {
            let r = app.post(&format!("/api/v1/tenants/{}/applications", f.tid), &f.admin, json!({"displayName": format!("Graph App {n}")})).await;
            let id = r.ok()["id"].as_str().unwrap().to_owned();
            app.post(&format!("/api/v1/tenants/{}/applications/{id}/graph-permissions", f.tid), &f.admin, json!({"permissions": ["User.Read.All"]})).await.ok();
            id
        }
        Prep::AccountTenant => {
            let r = app
                .post(&format!("/api/v1/accounts/{}/tenants", f.acc), &f.owner,
                      json!({"displayName": "Gone", "domainPrefix": format!("gone{n}"), "globalAdmin": {"givenName": "A", "surname": "B", "username": "admin", "password": "Adm1n-Passw0rd!"}}))
                .await;
            r.body["tenant"]["id"].as_str().unwrap().to_owned()
        }
        Prep::ForeignTenant | Prep::AssociationToken => {
            let (tid, admin) = app.tenant_with_admin(&f.owner, &format!("assoc{n}")).await;
            app.create_user(&admin, &tid, "frank").await;
            if matches!(prep, Prep::ForeignTenant) {
                return tid;
            }
            // Only a caller who may associate can start one; others get a dummy token and
            // must be refused before it is even looked at.
            match &f.tokens[col] {
                Some(t) if col <= 1 => {
                    let r = app
                        .post(&format!("/api/v1/accounts/{}/tenants/associations", f.acc), t, json!({"tenant": tid, "username": "frank", "password": "Us3r-Passw0rd!"}))
                        .await;
                    r.body["token"].as_str().unwrap().to_owned()
                }
                _ => "atra_not-a-real-token".to_owned(),
            }
        }
        Prep::Subscription => create_subscription(app, &f.owner, &format!("Sub {n}")).await,
        Prep::ConsentCode => {
            let sub = create_subscription(app, &f.owner, &format!("Sub {n}")).await;
            let r = app.post(&format!("/api/v1/subscriptions/{sub}/directory-requests"), &f.owner, json!({"tenant": f.tid})).await;
            r.ok()["consentCode"].as_str().unwrap().to_owned()
        }
        Prep::ConsentedSubscription => {
            let sub = create_subscription(app, &f.owner, &format!("Sub {n}")).await;
            request_and_consent(app, &f.owner, &sub, &f.tid, &f.admin).await;
            sub
        }
        Prep::DirectoryUserEmail => app.create_user(&f.admin, &f.tid, &format!("e{n}")).await["userPrincipalName"].as_str().unwrap().to_owned(),
        Prep::Coadmin => {
            let u = app.create_user(&f.admin, &f.tid, &format!("c{n}")).await;
            let r = app.post(&format!("/api/v1/subscriptions/{}/coadministrators", f.sub), &f.owner, json!({"email": u["userPrincipalName"]})).await;
            assert_eq!(r.status, 201, "{}", r.body);
            u["id"].as_str().unwrap().to_owned()
        }
        Prep::DirectoryApp | Prep::AppCoadmin => {
            let r = app.post(&format!("/api/v1/tenants/{}/applications", f.tid), &f.admin, json!({"displayName": format!("Deployer {n}")})).await;
            let app_id = r.ok()["appId"].as_str().unwrap().to_owned();
            if matches!(prep, Prep::AppCoadmin) {
                let r = app.post(&format!("/api/v1/subscriptions/{}/app-coadministrators", f.sub), &f.owner, json!({"appId": app_id})).await;
                assert_eq!(r.status, 201, "{}", r.body);
            }
            app_id
        }
        Prep::Product => {
            let r = app.post(&format!("/api/v1/accounts/{}/products", f.acc), &f.owner, json!({"name": format!("Temp {n}")})).await;
            r.body["id"].as_str().unwrap().to_owned()
        }
        Prep::DeveloperPasskey => {
            let dev = f.tokens[2].as_deref().unwrap();
            crate::passkeys::register(app, dev, Some(&format!("Dev {n}"))).await.1["id"].as_str().unwrap().to_owned()
        }
        Prep::OwnPasskeyRegistration => {
            let token = f.tokens[col].as_deref().unwrap_or(&f.owner);
            let begun = app.post("/api/v1/me/passkeys/begin", token, json!({})).await.ok().clone();
            let (_, credential) = crate::passkeys::SoftPasskey::create(&begun["publicKey"], &app.base);
            json!({"ceremonyId": begun["ceremonyId"], "credential": credential}).to_string()
        }
        Prep::DeveloperPasskeyAssertion => {
            let dev = f.tokens[2].as_deref().unwrap();
            let (mut key, _) = crate::passkeys::register(app, dev, None).await;
            let begun = app.request(Method::POST, "/api/v1/sign-in/passkey/begin", None, Some(json!({}))).await.ok().clone();
            json!({"ceremonyId": begun["ceremonyId"], "credential": key.get(&begun["publicKey"])}).to_string()
        }
        Prep::ProvisioningToken => {
            let r = app.post(&format!("/api/v1/tenants/{}/provisioning/tokens", f.tid), &f.admin, json!({"name": format!("Prep {n}")})).await;
            r.ok()["id"].as_str().unwrap().to_owned()
        }
        Prep::Invitation => {
            let r = app
                .post(&format!("/api/v1/accounts/{}/invitations", f.acc), &f.admin, json!({"emails": format!("i{n}@example.com"), "grant": {"roles": ["developer"]}}))
                .await;
            r.ok()["value"][0]["id"].as_str().unwrap().to_owned()
        }
    }
}

async fn authorization_matrix(app: TestApp) {
    let f = fixture(&app).await;
    let sessions = console_sessions(&app).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for (ri, row) in rows().iter().enumerate() {
        for (col, expected) in row.expect.iter().enumerate() {
            let n = format!("{ri}x{col}");
            let x = prepare(&app, &f, row.prep, col, &n).await;
            let fill = |s: &str| {
                s.replace("{acc}", &f.acc).replace("{tid}", &f.tid).replace("{p1}", &f.p1).replace("{dev}", &f.dev_user).replace("{x}", &x).replace("{n}", &n).replace("{sub}", &f.sub)
            };
            let path = fill(row.path);
            let (status, location, body) = if path.starts_with("/api/") {
                let body: Option<Value> = row.body.map(|b| serde_json::from_str(&fill(b)).unwrap());
                let res = app.request(row.method.clone(), &path, f.tokens[col].as_deref(), body).await;
                (res.status.as_u16(), None, res.body.to_string())
            } else {
                console_request(&app, row.method.clone(), &path, sessions[col].as_ref(), row.body.map(fill)).await
            };
            let got = match (status, location.as_deref()) {
                (303, Some("/sign-in")) => E::SignIn,
                (303, Some("/password")) => panic!("{} {} as {}: sent to the password page", row.method, row.path, COLUMNS[col]),
                (200..=299 | 303, _) => E::Ok,
                (403, _) => E::Forbidden,
                (404, _) => E::NotFound,
                (401, _) => E::Unauth,
                (other, _) => panic!("{} {} as {}: unexpected {other}: {body}", row.method, row.path, COLUMNS[col]),
            };
            cells += 1;
            if got != *expected {
                // The console's pages are long: the error message is enough.
                let shown = body.find("<main").map_or(body.as_str(), |i| &body[i..]);
                failures.push(format!("{} {} as {}: expected {expected:?}, got {got:?} {}", row.method, row.path, COLUMNS[col], &shown[..shown.len().min(600)]));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cells} cells differ:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(cells, rows().len() * COLUMNS.len());
}
