//! One table of error codes for every interface.
//!
//! Each code has a stable snake_case name, an HTTP status and a default message. Adapters render
//! `{"error":{"code","message","target"}}` from an [`Error`]; they never invent codes of their own.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $status:literal, $message:literal),)*) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            /// Every code, in table order (used by docs and tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable name clients match on.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code maps to.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// A default human-readable message.
            pub fn default_message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)* }
            }
        }
    };
}

error_codes! {
    // 400: the request itself is wrong.
    InvalidRequest => ("invalid_request", 400, "The request is malformed."),
    InvalidJson => ("invalid_json", 400, "The request body is not valid JSON for this operation."),
    UnknownField => ("unknown_field", 400, "The request body contains a field this operation does not accept."),
    MissingField => ("missing_field", 400, "A required field is missing."),
    InvalidUpn => ("invalid_user_principal_name", 400, "The user principal name is not valid."),
    UpnDomainNotVerified => ("upn_domain_not_verified", 400, "The user principal name's domain is not a domain of this tenant."),
    InvalidEmail => ("invalid_email", 400, "The email address is not valid."),
    InvalidDomainPrefix => ("invalid_domain_prefix", 400, "The domain prefix is not valid: use 1 to 63 letters, digits or inner hyphens."),
    InvalidName => ("invalid_name", 400, "The name is not valid."),
    InvalidId => ("invalid_id", 400, "The identifier is not a valid GUID."),
    InvalidUrl => ("invalid_url", 400, "The URL is not valid."),
    InvalidValidity => ("invalid_validity", 400, "A key is valid for 1 to 24 months."),
    InvalidCursor => ("invalid_cursor", 400, "The pagination cursor is not valid."),
    InvalidLimit => ("invalid_limit", 400, "The page size must be between 1 and 200."),
    WeakPassword => ("weak_password", 400, "The password does not meet the complexity requirements: at least 8 characters with 3 of upper case, lower case, digits and symbols."),
    RecoveryEmailRequired => ("recovery_email_required", 400, "A global administrator needs a password recovery email."),
    SourceOfAuthority => ("source_of_authority", 400, "This object is provisioned by SCIM: change it at its source; it arrives through SCIM."),
    // 401 / 403: who you are and what you may do.
    Unauthenticated => ("unauthenticated", 401, "Sign in first: send a session cookie or a bearer token."),
    InvalidCredentials => ("invalid_credentials", 401, "The user name or password is incorrect."),
    MfaRequired => ("mfa_required", 401, "This account signs in with a second factor: send the code from its authenticator app, or a recovery code, as 'otp'."),
    InvalidMfaCode => ("invalid_mfa_code", 401, "The verification code is incorrect, has expired or was already used."),
    InvalidPasskey => ("invalid_passkey", 401, "The passkey could not be verified, or it is not registered here."),
    AccountLocked => ("account_locked", 403, "The account is locked after too many failed sign-in attempts. Try again later."),
    AccountDisabled => ("account_disabled", 403, "The user account is disabled."),
    PasswordChangeRequired => ("password_change_required", 403, "The password must be changed before anything else can be done."),
    Forbidden => ("forbidden", 403, "You do not have permission to do this."),
    GrantExceedsYours => ("grant_exceeds_yours", 403, "You cannot grant a role or permission that you do not hold."),
    OwnerOnly => ("owner_only", 403, "Only the account owner can do this."),
    WrongTenant => ("wrong_tenant", 403, "Sign in through the tenant of this principal to manage it."),
    GlobalAdminRequired => ("global_admin_required", 403, "Changing the directory needs a global administrator of the tenant you are signed in through."),
    // 404
    NotFound => ("not_found", 404, "The resource does not exist."),
    TenantNotFound => ("tenant_not_found", 404, "The tenant does not exist."),
    UserNotFound => ("user_not_found", 404, "The user does not exist in this tenant."),
    GroupNotFound => ("group_not_found", 404, "The group does not exist in this tenant."),
    ApplicationNotFound => ("application_not_found", 404, "The application does not exist in this tenant."),
    AccountNotFound => ("account_not_found", 404, "The account does not exist or you have no access to it."),
    MemberNotFound => ("member_not_found", 404, "The principal is not a member of this account."),
    ProductNotFound => ("product_not_found", 404, "The product does not exist in this account."),
    // 400, not 404: the token is in the body, and nothing at the URL is missing.
    AssociationNotFound => ("association_not_found", 400, "The pending association does not exist or has expired; sign in to the tenant again."),
    KeyNotFound => ("key_not_found", 404, "The key does not exist for this application."),
    InvitationNotFound => ("invitation_not_found", 404, "This invitation does not exist, or the link was replaced by a newer invitation."),
    MailNotFound => ("mail_not_found", 404, "The mail does not exist."),
    SubscriptionNotFound => ("subscription_not_found", 404, "The subscription does not exist or you have no access to it."),
    DirectoryRequestNotFound => ("directory_request_not_found", 404, "The directory request does not exist, was used, or has expired; ask to use the directory again."),
    ProvisioningTokenNotFound => ("provisioning_token_not_found", 404, "The provisioning token does not exist in this tenant."),
    PasskeyNotFound => ("passkey_not_found", 404, "You have no passkey with this id."),
    // 400, not 404: the ceremony id is in the body.
    PasskeyCeremonyNotFound => ("passkey_ceremony_not_found", 400, "The passkey ceremony is unknown, was already used or has expired: start again."),
    CoadminNotFound => ("coadministrator_not_found", 404, "The user is not a co-administrator of this subscription."),
    // 409: the request conflicts with the current state.
    TenantDomainTaken => ("tenant_domain_taken", 409, "A tenant with this domain already exists."),
    UserNameTaken => ("user_name_taken", 409, "Another user in this tenant already has this userName."),
    UpnTaken => ("user_principal_name_taken", 409, "Another user in this tenant already has this user principal name."),
    GroupNameTaken => ("group_name_taken", 409, "Another group in this tenant already has this name."),
    AlreadyGroupMember => ("already_group_member", 409, "The user is already a member of this group."),
    TenantNotAssociated => ("tenant_not_associated", 409, "The tenant is not associated with this account."),
    TenantAlreadyAssociated => ("tenant_already_associated", 409, "The tenant is already associated with this account."),
    CurrentTenant => ("current_tenant", 409, "You cannot remove the tenant you are signed in through; sign in through another associated tenant."),
    AlreadyMember => ("already_member", 409, "The principal is already a member of this account."),
    IndividualAccount => ("individual_account", 409, "Individual accounts cannot have other users; only company accounts can."),
    ProductNameTaken => ("product_name_taken", 409, "Another product of this account has this name."),
    ReplyUrlTaken => ("reply_url_taken", 409, "Another application in this tenant already uses this Reply URL."),
    AppIdUriTaken => ("app_id_uri_taken", 409, "Another application in this tenant already uses this App ID URI."),
    TooManyKeys => ("too_many_keys", 409, "The application has the maximum number of keys; remove one first."),
    DirectorySyncEnabled => ("directory_sync_enabled", 409, "This tenant is synchronized from an on-premises directory: create the object there; it arrives through SCIM."),
    AlreadyInTenant => ("already_in_tenant", 409, "A user with this email address is already in the tenant, or has a pending invitation."),
    DuplicateAddress => ("duplicate_address", 400, "This email address appears more than once in the request."),
    InvitationNotPending => ("invitation_not_pending", 409, "The invitation was already accepted or revoked."),
    GuestNotAccepted => ("guest_not_accepted", 409, "This guest has not accepted the invitation yet: resend the invitation instead."),
    InvitationRedeemed => ("invitation_redeemed", 410, "This invitation was already accepted. Sign in with your email address and the password you chose."),
    InvitationRevoked => ("invitation_revoked", 410, "This invitation was revoked. Ask the person who invited you to send a new one."),
    InvitationExpired => ("invitation_expired", 410, "This invitation has expired. Ask the person who invited you to resend it."),
    MfaAlreadyEnrolled => ("mfa_already_enrolled", 409, "An authenticator app is already set up; remove it first to set up another."),
    MfaNotStarted => ("mfa_enrolment_not_started", 409, "Start setting up the authenticator app first: its secret is shown then."),
    ProtectedObject => ("protected_object", 409, "This object is protected and cannot be changed this way."),
    SubscriptionDisabled => ("subscription_disabled", 409, "The subscription is disabled; enable it first."),
    DirectoryNotConsented => ("directory_not_consented", 409, "The directory has not agreed to be used by this subscription: ask to use it, then have its global administrator Continue."),
    SameDirectory => ("same_directory", 409, "The subscription already trusts this directory."),
    CoadminOutsideDirectory => ("coadministrator_outside_directory", 409, "A co-administrator must be a user of the subscription's directory."),
    AlreadyCoadmin => ("already_coadministrator", 409, "The user is already a co-administrator of this subscription."),
    ConcurrentChange => ("concurrent_change", 409, "Someone changed this at the same time; review it and try again."),
    PasskeyAlreadyRegistered => ("passkey_already_registered", 409, "This passkey is already registered."),
    PasskeyRejected => ("passkey_rejected", 400, "The browser's passkey response could not be verified."),
    PasskeysUnavailable => ("passkeys_unavailable", 400, "Passkeys need the server to be reached by a host name (such as localhost), not an IP address."),
    // 413
    PayloadTooLarge => ("payload_too_large", 413, "The request body is too large."),
    UnsupportedMediaType => ("unsupported_media_type", 415, "Send the body as application/json."),
    // 421: the Host names another server (a forged Host must not reach links or the issuer).
    MisdirectedRequest => ("misdirected_request", 421, "This server does not answer for the host the request names."),
    // 429: throttled; the reply says when to try again (`Retry-After`).
    Throttled => ("throttled", 429, "Too many requests. Try again after the number of seconds the Retry-After header gives."),
    // 5xx
    Unavailable => ("unavailable", 503, "The service is temporarily unavailable."),
    Internal => ("internal", 500, "An internal error occurred. It has been logged."),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service error: a code, a message for people, and the input field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub target: Option<String>,
    /// Per-item errors of a request refused as a whole (e.g. which addresses of a batch are bad).
    pub details: Vec<Error>,
    /// Set on `throttled`: what was throttled and when to try again.
    pub throttled: Option<Throttled>,
}

/// A throttling refusal: the scope that refused (for metrics) and the seconds until its window
/// ends (`Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub scope: &'static str,
    pub retry_after: u64,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, message: code.default_message().to_owned(), target: None, details: Vec::new(), throttled: None }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// A `throttled` error: `scope` refused, try again in `retry_after` seconds.
    pub fn throttled(scope: &'static str, retry_after: u64) -> Self {
        let mut e = Self::new(ErrorCode::Throttled)
            .with_message(format!("Too many requests. Try again in {retry_after} seconds."));
        e.throttled = Some(Throttled { scope, retry_after });
        e
    }

    pub fn with_details(mut self, details: Vec<Error>) -> Self {
        self.details = details;
        self
    }

    /// An internal failure. The detail is logged by the adapter, never sent to clients.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::Internal).with_message(detail.to_string())
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(t) => write!(f, "{} ({}): {}", self.code, t, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!((400..600).contains(&code.http_status()));
        }
    }
}
