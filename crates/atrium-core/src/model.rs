//! The directory's entities, as the services see them.

use crate::domain::{Description, DisplayName, Email, GroupName, PasswordHash, PersonName, TenantDomain, Upn};
use crate::ids::{GroupId, SessionId, TenantId, UserId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub display_name: DisplayName,
    pub domain: TenantDomain,
    pub contact_email: Option<Email>,
    /// Synchronized from an on-premises directory: objects arrive through SCIM and cannot be
    /// created interactively (R5).
    pub directory_sync: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    Member,
    Guest,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Member" => Some(UserType::Member),
            "Guest" => Some(UserType::Guest),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub upn: Upn,
    pub display_name: DisplayName,
    pub given_name: Option<PersonName>,
    pub surname: Option<PersonName>,
    pub mail: Option<Email>,
    pub user_type: UserType,
    pub enabled: bool,
    pub password_hash: Option<PasswordHash>,
    pub must_change_password: bool,
    pub recovery_email: Option<Email>,
    pub global_admin: bool,
    pub failed_sign_ins: i32,
    pub locked_until: Option<Timestamp>,
    pub last_sign_in: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the user came from a provisioning source (SCIM): the source owns its synced
    /// attributes, which other interfaces then refuse to change.
    pub provisioning: Option<ProvisionedUser>,
}

/// What a provisioning source (SCIM) says about a user beyond the directory's own attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvisionedUser {
    /// SCIM `userName` exactly as sent; unique in the tenant, case-insensitively.
    pub user_name: String,
    pub external_id: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub employee_number: Option<String>,
    pub manager: Option<UserId>,
    /// `name.formatted` as sent (given name and surname are the user's own).
    pub formatted_name: Option<String>,
    /// The source's `emails` as sent; the user's `mail` is the primary one.
    pub emails: Vec<ProvisionedEmail>,
    /// `active` as the source last set it; `None` when it never did (the user is then enabled).
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ProvisionedEmail {
    pub value: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// A token a provisioning client (Entra's provisioning service, Okta, an HR system) presents to
/// `/scim/v2`. Bound to one tenant; only the SHA-256 of its value is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningToken {
    pub id: crate::ids::ProvisioningTokenId,
    pub tenant_id: TenantId,
    pub name: String,
    pub token_hash: [u8; 32],
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl User {
    /// A new enabled member user with a password and nothing else set; callers fill in the
    /// rest with struct update syntax.
    pub fn new_member(id: UserId, tenant_id: TenantId, upn: Upn, display_name: DisplayName, password_hash: PasswordHash, now: Timestamp) -> Self {
        Self {
            id,
            tenant_id,
            upn,
            display_name,
            given_name: None,
            surname: None,
            mail: None,
            user_type: UserType::Member,
            enabled: true,
            password_hash: Some(password_hash),
            must_change_password: false,
            recovery_email: None,
            global_admin: false,
            failed_sign_ins: 0,
            locked_until: None,
            last_sign_in: None,
            created_at: now,
            updated_at: now,
            provisioning: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub name: GroupName,
    pub description: Option<Description>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the group came from a provisioning source (SCIM), which then owns its name and members.
    pub provisioning: Option<ProvisionedGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProvisionedGroup {
    pub external_id: Option<String>,
}

/// A server-side session. Only the SHA-256 of its token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: [u8; 32],
    pub user_id: UserId,
    /// The tenant the user signed in through; R3/R4 decisions depend on it.
    pub tenant_id: TenantId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An application registration. Its service principal in the same tenant is implicit: every
/// application can use client credentials in its own tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: crate::ids::ApplicationId,
    pub client_id: crate::ids::ClientId,
    pub service_principal_id: crate::ids::ServicePrincipalId,
    pub tenant_id: TenantId,
    pub display_name: DisplayName,
    pub reply_urls: Vec<crate::domain::ReplyUrl>,
    pub app_id_uri: Option<crate::domain::AppIdUri>,
    /// Allows public-client flows (no secret): ROPC and auth code from native apps.
    pub public_client: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An app role of a resource granted to an application's service principal (Entra's
/// appRoleAssignment). Graph's application permissions are app roles of the built-in Graph
/// service principal: `resource_app_id` is then [`crate::graph::GRAPH_APP_ID`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoleAssignment {
    pub id: crate::ids::AppRoleAssignmentId,
    pub tenant_id: TenantId,
    pub application_id: crate::ids::ApplicationId,
    pub resource_app_id: uuid::Uuid,
    pub app_role_id: uuid::Uuid,
    pub created_at: Timestamp,
}

/// A client secret. Only the SHA-256 of the value is stored; the value is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKey {
    pub id: crate::ids::KeyId,
    pub tenant_id: TenantId,
    pub application_id: crate::ids::ApplicationId,
    pub display_name: Option<String>,
    /// The first three characters of the value, to tell keys apart.
    pub hint: String,
    pub secret_hash: [u8; 32],
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A token-signing key pair. The private key is stored encrypted with the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub private_key_encrypted: Vec<u8>,
    /// A self-signed certificate over the public key, published as `x5c`.
    pub certificate_der: Vec<u8>,
    pub created_at: Timestamp,
    /// When a newer key took over. Retired keys stay in the JWKS until their tokens expire.
    pub retired_at: Option<Timestamp>,
}

/// An authorization code, stored by hash, single use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: [u8; 32],
    pub tenant_id: TenantId,
    pub client_id: crate::ids::ClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
    /// How the user signed in (`amr` values, space-separated: `pwd`, or `pwd mfa otp`).
    pub amr: String,
}

/// A refresh token, stored by hash. Rotation keeps a family: replaying a rotated token
/// revokes the whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: [u8; 32],
    pub family_id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub client_id: crate::ids::ClientId,
    pub user_id: UserId,
    pub scope: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The `amr` of the sign-in the family started from; refreshed tokens keep it.
    pub amr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    Company,
    Individual,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Company => "company",
            AccountType::Individual => "individual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "company" => Some(AccountType::Company),
            "individual" => Some(AccountType::Individual),
            _ => None,
        }
    }
}

/// A Partner Center–style account, opened by its owner (a user of the personal-accounts tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: crate::ids::AccountId,
    pub name: DisplayName,
    pub account_type: AccountType,
    pub program: crate::access::Program,
    pub owner_tenant_id: TenantId,
    pub owner_user_id: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A principal that can be a member of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalRef {
    User(UserId),
    Group(GroupId),
    Application(crate::ids::ApplicationId),
}

impl PrincipalRef {
    pub fn kind(&self) -> &'static str {
        match self {
            PrincipalRef::User(_) => "user",
            PrincipalRef::Group(_) => "group",
            PrincipalRef::Application(_) => "application",
        }
    }

    pub fn uuid(&self) -> uuid::Uuid {
        match self {
            PrincipalRef::User(i) => i.as_uuid(),
            PrincipalRef::Group(i) => i.as_uuid(),
            PrincipalRef::Application(i) => i.as_uuid(),
        }
    }

    pub fn from_parts(kind: &str, id: uuid::Uuid) -> Option<Self> {
        match kind {
            "user" => Some(PrincipalRef::User(UserId::from_uuid(id))),
            "group" => Some(PrincipalRef::Group(GroupId::from_uuid(id))),
            "application" => Some(PrincipalRef::Application(crate::ids::ApplicationId::from_uuid(id))),
            _ => None,
        }
    }
}

/// A member of an account: a principal of an associated tenant with a grant (roles and/or
/// custom permissions, stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: crate::ids::AccountId,
    pub tenant_id: TenantId,
    pub principal: PrincipalRef,
    pub grant_json: String,
    pub added_by: Option<UserId>,
    pub added_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: crate::ids::ProductId,
    pub account_id: crate::ids::AccountId,
    pub name: DisplayName,
    pub created_at: Timestamp,
}

/// Step one of associating an existing tenant: someone proved credentials of the tenant; a
/// separate Confirm commits the association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAssociation {
    pub token_hash: [u8; 32],
    pub account_id: crate::ids::AccountId,
    pub tenant_id: TenantId,
    pub proved_by: UserId,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// One authenticated request to an account (kept 30 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub account_id: crate::ids::AccountId,
    pub principal: PrincipalRef,
    pub at: Timestamp,
    pub method: String,
    pub route: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Shown as "Invitation pending": the guest exists (with its access) but cannot sign in.
    Pending,
    Accepted,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(InvitationStatus::Pending),
            "accepted" => Some(InvitationStatus::Accepted),
            "revoked" => Some(InvitationStatus::Revoked),
            _ => None,
        }
    }
}

/// An invitation of an outside user (R11). Only the hash of the redemption token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: crate::ids::InvitationId,
    pub tenant_id: TenantId,
    /// The account whose "Invite outside users" sent it; `None` for Graph invitations.
    pub account_id: Option<crate::ids::AccountId>,
    /// The guest user created for it.
    pub user_id: UserId,
    pub email: Email,
    pub token_hash: [u8; 32],
    pub status: InvitationStatus,
    /// Where the redemption page sends the guest afterwards.
    pub redirect_url: Option<String>,
    pub invited_by: Option<UserId>,
    pub resend_count: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// `None`: valid until accepted or revoked.
    pub expires_at: Option<Timestamp>,
    pub accepted_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    Queued,
    /// Claimed by a worker; the lease (`locked_until`) returns it to the queue if that node dies.
    Sending,
    Sent,
    /// Given up after the configured number of attempts.
    Dead,
    /// Withdrawn before it was sent: its invitation was revoked or replaced, or its tenant
    /// removed. The body (with its link) is cleared.
    Cancelled,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Dead => "dead",
            MailStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(MailStatus::Queued),
            "sending" => Some(MailStatus::Sending),
            "sent" => Some(MailStatus::Sent),
            "dead" => Some(MailStatus::Dead),
            "cancelled" => Some(MailStatus::Cancelled),
            _ => None,
        }
    }
}

/// A mail of the transactional outbox. Bodies are cleared once the mail is sent or dead, since
/// they may carry a redemption link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: crate::ids::MailId,
    pub to: Email,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: Timestamp,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub invitation_id: Option<crate::ids::InvitationId>,
    pub account_id: Option<crate::ids::AccountId>,
    pub tenant_id: Option<TenantId>,
}

/// Whether a subscription can be used (seed 003). A disabled one keeps its directory and
/// co-administrators but offers nothing to deploy to and refuses changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    Active,
    Disabled,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(SubscriptionState::Active),
            "disabled" => Some(SubscriptionState::Disabled),
            _ => None,
        }
    }
}

/// A subscription (seed 003): owned by a personal account, it trusts exactly one directory
/// (at first the owner's own, the personal-accounts tenant) and has co-administrators from
/// that directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: crate::ids::SubscriptionId,
    pub name: DisplayName,
    pub owner_tenant_id: TenantId,
    pub owner_user_id: UserId,
    pub state: SubscriptionState,
    pub directory_tenant_id: TenantId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Seed 003 steps 1–2: the owner asked to use a directory ("Use existing directory"); a global
/// administrator of that directory consents with the single-use code ("Continue").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRequest {
    pub id: crate::ids::DirectoryRequestId,
    pub subscription_id: crate::ids::SubscriptionId,
    pub tenant_id: TenantId,
    /// SHA-256 of the consent code; the code itself is shown once, to the owner.
    pub code_hash: [u8; 32],
    pub requested_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub consented_by: Option<UserId>,
    pub consented_at: Option<Timestamp>,
}

/// A co-administrator of a subscription: always a user of its current directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coadmin {
    pub subscription_id: crate::ids::SubscriptionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub added_by: UserId,
    pub added_at: Timestamp,
}

/// An application (its service principal) as co-administrator of a subscription: always an
/// application of its current directory. It is how a service principal sees the subscription
/// through ARM (Azure would use a role assignment; seed 003's access model is co-administrators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCoadmin {
    pub subscription_id: crate::ids::SubscriptionId,
    pub tenant_id: TenantId,
    pub application_id: crate::ids::ApplicationId,
    pub added_by: UserId,
    pub added_at: Timestamp,
}

/// A user's TOTP authenticator (RFC 6238). Unconfirmed until a first code proves the user's
/// app holds the secret; `last_step` is the last time step accepted (replay refused).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpMethod {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    /// As stored: sealed with the master key (see [`crate::ports::SecretSealer`]), or the
    /// raw secret in rows written before secrets were sealed (`sealed` false).
    pub secret: Vec<u8>,
    pub sealed: bool,
    pub confirmed_at: Option<Timestamp>,
    pub last_step: i64,
    pub created_at: Timestamp,
}

/// The secret stays out of logs.
impl std::fmt::Debug for TotpMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpMethod").field("user_id", &self.user_id).field("confirmed_at", &self.confirmed_at).field("last_step", &self.last_step).finish_non_exhaustive()
    }
}

/// A user's passkey (a WebAuthn credential). `credential` is the verifier's serialised record of
/// it (public key, signature counter, credential id), opaque to the core; `credential_id` is
/// what an assertion names, unique across the deployment.
#[derive(Clone, PartialEq, Eq)]
pub struct Passkey {
    pub id: crate::ids::PasskeyId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub name: String,
    pub credential_id: Vec<u8>,
    pub credential: Vec<u8>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl std::fmt::Debug for Passkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkey").field("id", &self.id).field("user_id", &self.user_id).field("name", &self.name).finish_non_exhaustive()
    }
}

/// What a passkey ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyCeremonyKind {
    /// A signed-in user adds a passkey.
    Registration,
    /// A sign-in without a password (discoverable credential).
    SignIn,
}

impl PasskeyCeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PasskeyCeremonyKind::Registration => "registration",
            PasskeyCeremonyKind::SignIn => "sign_in",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registration" => Some(PasskeyCeremonyKind::Registration),
            "sign_in" => Some(PasskeyCeremonyKind::SignIn),
            _ => None,
        }
    }
}

/// A WebAuthn ceremony in progress: the challenge state, kept server-side (never in a cookie
/// the client could change), taken once, expiring. `user_id`/`tenant_id` bind a registration
/// to its user; a sign-in may be bound to the tenant of the authorize page.
#[derive(Clone, PartialEq, Eq)]
pub struct PasskeyCeremony {
    pub id: crate::ids::PasskeyCeremonyId,
    pub kind: PasskeyCeremonyKind,
    pub tenant_id: Option<TenantId>,
    pub user_id: Option<UserId>,
    pub state: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for PasskeyCeremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyCeremony").field("id", &self.id).field("kind", &self.kind).field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}
