//! The JSON shapes of Atrium's REST API (`/api/v1`). The server renders them and the CLI reads
//! them; their schemas feed the OpenAPI document. Field names are camelCase, as in Graph.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `{"error":{"code","message","target"}}`: every error of the REST API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `user_principal_name_taken`.
    pub code: String,
    pub message: String,
    /// The input field the error concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Per-item errors when a request was refused as a whole (e.g. the bad addresses of a batch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub details: Vec<ErrorBody>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of results. `nextCursor` is absent on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------- sign-in

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInRequest {
    /// The tenant's GUID or domain, e.g. `contoso.onatrium.local`.
    pub tenant: String,
    /// A userPrincipalName, or only its alias.
    pub username: String,
    pub password: String,
    /// The second factor, for users with an authenticator app: its current 6-digit code, or
    /// one of their recovery codes. Without it such a user gets 401 `mfa_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInResponse {
    /// Send as `Authorization: Bearer <token>`. A `Secure; HttpOnly` session cookie is set too.
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
    pub user: User,
    pub tenant: Tenant,
    /// When true, only `POST /api/v1/me/password` and sign-out are allowed until it is changed.
    pub must_change_password: bool,
}

// ---------------------------------------------------------------- multi-factor sign-in

/// The signed-in user's multi-factor state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaStatus {
    /// An authenticator app (TOTP) is set up and confirmed.
    pub totp: bool,
    /// Set up was started but not yet confirmed with a first code.
    pub totp_pending: bool,
    pub recovery_codes_left: u32,
    /// The tenant requires MFA of this user (a global administrator under the tenant's policy).
    pub required: bool,
}

/// A started authenticator set-up. The secret is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotpEnrolment {
    /// The shared secret in base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://totp/Atrium:<upn>?secret=...&issuer=Atrium`: what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code of `otpauthUri` as an SVG image.
    pub qr_code_svg: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmTotpRequest {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmTotpResponse {
    /// 10 single-use recovery codes, shown this once: each signs in once in place of a code.
    pub recovery_codes: Vec<String>,
}

/// A tenant's multi-factor policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MfaPolicy {
    /// Global administrators must set up an authenticator app at their next console sign-in,
    /// and sign in with it from then on.
    pub require_mfa_for_global_admins: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user: User,
    /// The tenant signed in through.
    pub tenant: Tenant,
    pub instance_admin: bool,
}

// ---------------------------------------------------------------- tenants

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: Uuid,
    pub display_name: String,
    /// `<prefix>.<suffix>`.
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    pub directory_sync: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTenantRequest {
    pub display_name: String,
    /// The unique prefix of the tenant's domain: `contoso` gives `contoso.<suffix>`.
    pub domain_prefix: String,
    #[serde(default)]
    pub contact_email: Option<String>,
    #[serde(default)]
    pub directory_sync: bool,
    /// The tenant's first global administrator, created with it.
    #[serde(default)]
    pub global_admin: Option<NewTenantAdmin>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTenantAdmin {
    pub given_name: String,
    pub surname: String,
    /// An alias or a full userPrincipalName in the new tenant's domain.
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTenantResponse {
    pub tenant: Tenant,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_admin: Option<User>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTenantRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub contact_email: Option<Option<String>>,
    #[serde(default)]
    pub directory_sync: Option<bool>,
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: String,
    pub enabled: bool,
    pub must_change_password: bool,
    pub global_admin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in: Option<String>,
    /// `scim` when the user is provisioned by the tenant's source directory, which then owns
    /// its synced attributes (changes here are refused with `source_of_authority`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What the source directory knows the user by; only for provisioned users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<UserProvisioning>,
    pub created_at: String,
    pub updated_at: String,
}

/// A provisioned user's identity in its source directory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProvisioning {
    /// SCIM `userName` exactly as the source sent it.
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserRequest {
    /// `alias@<tenant domain>`, or only the alias.
    pub user_principal_name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    /// Omit it to get a temporary password, shown once in the response.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub force_change_password: Option<bool>,
    #[serde(default)]
    pub global_admin: bool,
    /// Required for a global administrator.
    #[serde(default)]
    pub recovery_email: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserResponse {
    pub user: User,
    /// Only when no password was given. Shown this once; it must be changed at first sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mail: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub recovery_email: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub global_admin: Option<bool>,
}

// ---------------------------------------------------------------- groups

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `scim` when the group is provisioned by the tenant's source directory (see `User.source`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The source directory's id of the group (SCIM `externalId`), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// User ids of the same tenant.
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroupRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberRequest {
    #[schema(value_type = Uuid)]
    pub user_id: String,
}

// ---------------------------------------------------------------- provisioning (SCIM)

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProvisioningTokenRequest {
    /// Names the SCIM client in lists and in the audit log, e.g. `Entra provisioning`. 1 to 100 characters.
    pub name: String,
    /// 1 to 730; default 365.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 730)]
    pub valid_days: Option<i64>,
}

/// A provisioning token as listed: never its value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningToken {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    /// An expired token no longer authenticates; create a new one.
    pub expired: bool,
    /// The user who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
}

/// A new provisioning token. `token` is shown only in this response (only a hash is stored):
/// give it, with `scimUrl`, to the SCIM client (Entra: Tenant URL and Secret Token).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedProvisioningToken {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    pub token: String,
    /// The SCIM 2.0 base URL, `https://<host>/scim/v2`.
    pub scim_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningTokenList {
    pub value: Vec<ProvisioningToken>,
    /// The SCIM 2.0 base URL the tokens are for.
    pub scim_url: String,
}

// ---------------------------------------------------------------- audit

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_user_id: Option<Uuid>,
    /// The tenant the actor signed in through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_tenant_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Uuid>,
    /// Who did it, by name: "Ada Admin (admin@contoso.example)" (the account audit log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// What it was done to, by name (the account audit log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// The action in words, e.g. "Added to the account" (the account audit log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_text: Option<String>,
    pub details: serde_json_value::Value,
}

/// A tiny stand-in for `serde_json::Value` so this crate stays free of serde_json.
pub mod serde_json_value {
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;
    use std::fmt;

    /// Audit details: an object of texts, and of grants as objects (never JSON inside a string).
    #[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(transparent)]
    pub struct Value(pub BTreeMap<String, Detail>);

    /// One detail: a text, or a grant with its roles and permissions in words.
    #[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
    #[serde(untagged)]
    pub enum Detail {
        Text(String),
        Grant(GrantWords),
    }

    /// A grant in words: `{"roles":["Developer"],"permissions":[{"permission":"Packages","access":"Read/write","products":["Game One"]}]}`.
    #[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct GrantWords {
        pub roles: Vec<String>,
        pub permissions: Vec<PermissionWords>,
    }

    #[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
    pub struct PermissionWords {
        pub permission: String,
        /// "Read only" or "Read/write".
        pub access: String,
        /// The products it covers ("All products"); empty for an account-level permission.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub products: Vec<String>,
    }

    impl fmt::Display for Detail {
        /// "Developer; Packages: Read/write (Game One)".
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Detail::Text(t) => f.write_str(t),
                Detail::Grant(g) => {
                    let mut parts: Vec<String> = Vec::new();
                    if !g.roles.is_empty() {
                        parts.push(g.roles.join(", "));
                    }
                    for p in &g.permissions {
                        let scope = if p.products.is_empty() { String::new() } else { format!(" ({})", p.products.join(", ")) };
                        parts.push(format!("{}: {}{scope}", p.permission, p.access));
                    }
                    if parts.is_empty() { f.write_str("No access") } else { f.write_str(&parts.join("; ")) }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: String,
}

// ---------------------------------------------------------------- applications

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// The object id.
    pub id: Uuid,
    /// The client id.
    pub app_id: Uuid,
    pub tenant_id: Uuid,
    pub display_name: String,
    pub reply_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id_uri: Option<String>,
    pub public_client: bool,
    pub service_principal_id: Uuid,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApplicationRequest {
    pub display_name: String,
    /// Each at most 256 characters, unique in the tenant (case-insensitively).
    #[serde(default)]
    pub reply_urls: Vec<String>,
    /// At most 256 characters, unique in the tenant (case-insensitively), e.g. `api://contoso`.
    #[serde(default)]
    pub app_id_uri: Option<String>,
    /// Allow public-client flows (no secret).
    #[serde(default)]
    pub public_client: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateApplicationRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub reply_urls: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub app_id_uri: Option<Option<String>>,
    #[serde(default)]
    pub public_client: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddKeyRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    /// 1 to 24; default 24.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 24)]
    pub validity_months: Option<u32>,
}

/// A new key. `secret` is shown only in this response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    pub key_id: Uuid,
    pub client_id: Uuid,
    pub secret: String,
    pub hint: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub key_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The first three characters of the value.
    pub hint: String,
    pub created_at: String,
    pub expires_at: String,
    pub expired: bool,
}

/// Grants Microsoft Graph application permissions to an application ("Grant admin consent").
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantGraphPermissionsRequest {
    /// Permission names (`User.Read.All`) or Microsoft's app role ids.
    #[schema(min_items = 1, max_items = 20)]
    pub permissions: Vec<String>,
}

/// A Microsoft Graph application permission held by an application: an app role assignment
/// to the built-in Microsoft Graph service principal. App-only Graph tokens carry it in `roles`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphPermissionGrant {
    /// The permission's name, as in the `roles` claim.
    pub permission: String,
    /// Microsoft's id of the app role.
    pub app_role_id: Uuid,
    /// Microsoft Graph's appId, `00000003-0000-0000-c000-000000000000`.
    pub resource_app_id: Uuid,
    /// The app role assignment's id.
    pub id: Uuid,
    pub created_at: String,
}

// ---------------------------------------------------------------- accounts

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    /// `company` or `individual`.
    pub account_type: String,
    /// `developer` or `hardware` (where "Manager" reads "Administrator").
    pub program: String,
    pub owner_user_id: Uuid,
    /// Whether the caller is the owner.
    pub is_owner: bool,
    /// The caller's access in words: "Owner", "Manager" ("Administrator" on hardware
    /// accounts), "Developer, Marketer", "Custom permissions".
    #[serde(default)]
    pub role: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub name: String,
    #[serde(default)]
    pub account_type: Option<String>,
    #[serde(default)]
    pub program: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountTenant {
    pub tenant: Tenant,
    pub associated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartAssociationRequest {
    /// The tenant's GUID or domain.
    pub tenant: String,
    /// A user of that tenant (global admin not needed).
    pub username: String,
    pub password: String,
    /// The user's second factor when they sign in with one (an authenticator app, or a global
    /// administrator under the tenant's MFA policy): the current 6-digit code or a recovery
    /// code. Without it such a user gets 401 `mfa_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
}

/// Review the organization and domain, then Confirm with the token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartAssociationResponse {
    pub token: String,
    pub tenant_id: Uuid,
    pub organization: String,
    pub domain: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmAssociationRequest {
    pub token: String,
}

/// Roles and/or custom permissions. `products` absent means all products (current and future).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantBody {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<PermissionBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionBody {
    pub permission: String,
    /// `read_only` or `read_write`.
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrincipalBody {
    /// `user`, `group` or `application`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A GUID (users also by userPrincipalName; applications also by appId).
    pub id: String,
    /// Default: the tenant you signed in through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMembersRequest {
    /// At least one.
    #[schema(min_items = 1)]
    pub principals: Vec<PrincipalBody>,
    pub grant: GrantBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberResult {
    pub input: PrincipalBody,
    /// `added` or `failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMembersResponse {
    pub results: Vec<AddMemberResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// userPrincipalName of a user, appId of an application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub grant: GrantBody,
    /// "Invitation pending" for a guest who has not accepted yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub added_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMemberUserRequest {
    pub user_principal_name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Make the user a global administrator of the tenant (needs a recovery email).
    #[serde(default)]
    pub global_admin: bool,
    #[serde(default)]
    pub recovery_email: Option<String>,
    /// Group ids of the same tenant.
    #[serde(default)]
    pub groups: Vec<String>,
    pub grant: GrantBody,
}

/// "Create a new application": registered in the directory and added with `grant`, at once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMemberApplicationRequest {
    pub display_name: String,
    #[serde(default)]
    pub reply_urls: Vec<String>,
    #[serde(default)]
    pub app_id_uri: Option<String>,
    pub grant: GrantBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateMemberApplicationResponse {
    pub member: Member,
    pub application: Application,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateMemberUserResponse {
    pub member: Member,
    pub user: User,
    /// Shown only in this response; it must be changed at the first sign-in.
    pub temporary_password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMemberGroupRequest {
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
    pub grant: GrantBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub grant: GrantBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryPassword {
    /// Shown only in this response.
    pub temporary_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProductRequest {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessCheckRequest {
    /// Whose access; default: the caller.
    #[serde(default)]
    pub principal: Option<PrincipalBody>,
    /// Or: whose access, as the bearer of this access token (issued by this server for the
    /// account API).
    #[serde(default)]
    pub token: Option<String>,
    /// A permission id from `GET /api/v1/catalog`.
    pub permission: String,
    /// A product of the account, for product-level permissions.
    #[serde(default)]
    pub product: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessCheckBatchRequest {
    pub checks: Vec<AccessCheckRequest>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub at: String,
    pub method: String,
    pub route: String,
}

// ---------------------------------------------------------------- invitations and mail

/// "Invite outside users": one to ten addresses with the access they get.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteRequest {
    /// Addresses separated by `,` or `;`, or a list of them.
    pub emails: StringOrList,
    pub grant: GrantBody,
    /// A personal message added to the mail.
    #[serde(default)]
    pub message: Option<String>,
    /// Where the guest lands after accepting.
    #[serde(default)]
    pub invite_redirect_url: Option<String>,
}

/// A string, or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => vec![s],
            StringOrList::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    /// `pending` (shown as "Invitation pending"), `accepted`, `revoked` or `expired`.
    pub status: String,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_redirect_url: Option<String>,
    pub resend_count: i32,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    /// The newest mail sent for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailStatusBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationList {
    pub value: Vec<Invitation>,
}

/// A mail of the outbox, without its body (which may hold a redemption link).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailStatusBody {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    /// `queued`, `sending`, `sent`, `dead`, `cancelled` (its invitation was revoked or replaced,
    /// or its tenant removed, before it went out), or `not_sent`: no mail server is configured, so
    /// the mail waits in the outbox (it goes out once one is).
    pub status: String,
    /// The status in words, e.g. "Not sent: no mail server is configured".
    pub summary: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<Uuid>,
}

/// Graph `POST /v1.0/invitations` (a subset of microsoft.graph.invitation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphInvitationRequest {
    pub invited_user_email_address: String,
    pub invite_redirect_url: String,
    #[serde(default)]
    pub invited_user_display_name: Option<String>,
    #[serde(default)]
    pub send_invitation_message: Option<bool>,
    #[serde(default)]
    pub invited_user_message_info: Option<GraphMessageInfo>,
    /// Only `Guest` is supported.
    #[serde(default)]
    pub invited_user_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphMessageInfo {
    #[serde(default)]
    pub customized_message_body: Option<String>,
}

// ---------------------------------------------------------------- subscriptions (seed 003)

/// A directory, as subscriptions name it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRef {
    pub id: Uuid,
    pub domain: String,
    pub display_name: String,
}

/// A subscription: owned by a personal account, trusting exactly one directory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: Uuid,
    pub name: String,
    /// `active` or `disabled`.
    pub state: String,
    pub owner_user_id: Uuid,
    /// The one directory the subscription trusts.
    pub directory: DirectoryRef,
    /// The caller's role: `owner` or `coadministrator`.
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSubscriptionRequest {
    pub name: String,
}

/// Step 1, "Use existing directory".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryRequestBody {
    /// The directory's GUID or domain.
    pub tenant: String,
}

/// Hand `consentCode` to a global administrator of the directory: they sign in with its
/// credentials and consent (`POST /api/v1/directory-consents`). It is shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRequestCreated {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub consent_code: String,
    pub directory: DirectoryRef,
    pub expires_at: String,
}

/// Step 2, "Continue".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryConsentRequest {
    pub code: String,
}

/// The consent dialog (review), or the consent given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryConsentResponse {
    pub request_id: Uuid,
    pub subscription_id: Uuid,
    pub subscription_name: String,
    /// Who asks: the subscription owner's display name.
    pub owner_display_name: String,
    pub directory: DirectoryRef,
    pub expires_at: String,
    /// Absent in the review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<String>,
}

/// Step 3, "Change the associated directory".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeDirectoryRequest {
    /// The directory: its GUID, or the domain of a directory asked for in step 1.
    pub tenant_id: String,
}

/// The "Confirm directory mapping" page (preview), or what the confirmed change did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryChange {
    pub subscription: Subscription,
    pub from: DirectoryRef,
    pub to: DirectoryRef,
    /// The old directory's co-administrators: they lose access.
    pub coadministrators_losing_access: Vec<Coadministrator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consented_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<String>,
    /// False for the preview, true once confirmed.
    pub changed: bool,
}

/// Step 4: a co-administrator, by email (userPrincipalName or mail of a user of the directory).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddCoadministratorRequest {
    pub email: String,
}

/// An application of the subscription's directory as co-administrator, by appId (client id):
/// its service principal then sees the subscription through ARM (`az login --service-principal`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddAppCoadministratorRequest {
    pub app_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppCoadministrator {
    pub app_id: Uuid,
    pub application_id: Uuid,
    pub service_principal_id: Uuid,
    pub tenant_id: Uuid,
    pub display_name: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coadministrator {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_at: Option<String>,
}

// ---------------------------------------------------------------- sign-in logs

/// One sign-in attempt, named after Graph's `microsoft.graph.signIn`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInLog {
    pub id: Uuid,
    /// RFC 3339, UTC.
    pub created_date_time: String,
    pub tenant_id: Uuid,
    /// The user, when the name matched one (also on failed attempts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// As typed on failed attempts; the user's UPN on successful ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// The client id the attempt presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_display_name: Option<String>,
    /// `Browser`, `Mobile Apps and Desktop clients`, `Other clients`; empty for applications.
    pub client_app_used: String,
    /// Whether a person typed credentials (false for token redemption and applications).
    pub is_interactive: bool,
    /// `interactiveUser`, `nonInteractiveUser` or `servicePrincipal`.
    pub sign_in_event_types: Vec<String>,
    pub status: SignInStatus,
    /// Whether a second factor was used.
    pub mfa_used: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The client's `client-request-id` (or the request id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// `errorCode` 0 is a success; otherwise Entra's AADSTS number (50126 invalid credentials,
/// 50053 locked, 50057 disabled, 7000215 invalid client secret, ...).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    pub error_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}
