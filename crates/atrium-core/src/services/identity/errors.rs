//! AADSTS errors of the token and authorize endpoints.

use std::fmt;

/// An OAuth error as Entra reports it: the RFC 6749 `error`, the AADSTS number, the HTTP status
/// and a description that starts with `AADSTS<code>: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub code: u32,
    pub status: u16,
    pub description: String,
    /// What went wrong inside (a store's message) for the log: never part of the reply, since
    /// it may name tables, columns or the input that broke them.
    pub detail: Option<String>,
    /// Set on a 429: what refused and when to try again (`Retry-After`).
    pub throttled: Option<crate::error::Throttled>,
}

impl OAuthError {
    fn new(error: &'static str, code: u32, status: u16, description: impl Into<String>) -> Self {
        Self { error, code, status, description: description.into(), detail: None, throttled: None }
    }

    pub fn invalid_secret(app_id: &str) -> Self {
        Self::new(
            "invalid_client",
            7000215,
            401,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."),
        )
    }

    pub fn expired_secret(app_id: &str) -> Self {
        Self::new(
            "invalid_client",
            7000222,
            401,
            format!("The provided client secret keys for app '{app_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
        )
    }

    pub fn missing_secret() -> Self {
        Self::new("invalid_client", 7000218, 401, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    }

    pub fn public_client_with_secret() -> Self {
        Self::new("invalid_client", 700025, 401, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
    }

    pub fn unknown_client(app_id: &str, tenant: &str) -> Self {
        Self::new(
            "unauthorized_client",
            700016,
            400,
            format!("Application with identifier '{app_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
        )
    }

    pub fn unknown_tenant(tenant: &str) -> Self {
        Self::new(
            "invalid_request",
            90002,
            400,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        )
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new("invalid_request", 900144, 400, format!("The request body must contain the following parameter: '{name}'."))
    }

    pub fn malformed(what: &str) -> Self {
        Self::new("invalid_request", 9002313, 400, format!("Invalid request. Request is malformed or invalid: {what}"))
    }

    pub fn unsupported_grant(grant: &str) -> Self {
        Self::new("unsupported_grant_type", 70003, 400, format!("The app requested an unsupported grant type '{grant}'."))
    }

    pub fn cc_scope_needs_default(scope: &str) -> Self {
        Self::new(
            "invalid_scope",
            1002012,
            400,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        )
    }

    pub fn invalid_scope(scope: &str) -> Self {
        Self::new("invalid_scope", 70011, 400, format!("The provided value for the input parameter 'scope' isn't valid. The scope {scope} is not valid."))
    }

    pub fn unknown_resource(resource: &str, tenant: &str) -> Self {
        Self::new(
            "invalid_resource",
            500011,
            400,
            format!("The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
        )
    }

    pub fn bad_credentials() -> Self {
        Self::new("invalid_grant", 50126, 400, "Error validating credentials due to invalid username or password.")
    }

    pub fn user_disabled() -> Self {
        Self::new("invalid_grant", 50057, 400, "The user account is disabled.")
    }

    pub fn user_locked() -> Self {
        Self::new("invalid_grant", 50053, 400, "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password.")
    }

    /// ROPC cannot carry a second factor: Entra's answer for a user who must use MFA.
    pub fn mfa_required() -> Self {
        Self::new(
            "invalid_grant",
            50076,
            400,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.",
        )
    }

    /// The password was right and the second factor is still to come: what Entra's sign-in
    /// log records for that step (50074, "interrupted"). Never sent as a reply.
    pub fn strong_auth_required() -> Self {
        Self::new("interaction_required", 50074, 401, "Strong Authentication is required.")
    }

    pub fn password_change_required() -> Self {
        Self::new("invalid_grant", 50055, 400, "The password is expired. The user must change it (a temporary password must be replaced) before signing in.")
    }

    pub fn redirect_mismatch(uri: &str, app_id: &str) -> Self {
        Self::new(
            "invalid_request",
            50011,
            400,
            format!("The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{app_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."),
        )
    }

    pub fn code_redeemed() -> Self {
        Self::new("invalid_grant", 54005, 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
    }

    pub fn expired_grant() -> Self {
        Self::new("invalid_grant", 70008, 400, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
    }

    pub fn invalid_grant(what: &str) -> Self {
        Self::new("invalid_grant", 9002313, 400, format!("Invalid request. Request is malformed or invalid: {what}"))
    }

    pub fn pkce_mismatch() -> Self {
        Self::new("invalid_grant", 501481, 400, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
    }

    pub fn unsupported_response_type(t: &str) -> Self {
        Self::new("unsupported_response_type", 70005, 400, format!("The 'response_type' parameter '{t}' is not supported; use 'code'."))
    }

    pub fn not_an_account_member(app_id: &str) -> Self {
        Self::new(
            "unauthorized_client",
            501051,
            400,
            format!("Application '{app_id}' is not assigned to a role for the account API. Add it to an account (with the Manager role to manage users) first."),
        )
    }

    /// Throttled (HTTP 429 with `Retry-After`), as Entra's AADSTS90055 "too many incoming
    /// requests"; MSAL waits for `Retry-After` before it tries again.
    pub fn throttled(t: crate::error::Throttled) -> Self {
        Self {
            throttled: Some(t),
            ..Self::new("temporarily_unavailable", 90055, 429, format!("There are too many incoming requests. Try again in {} seconds.", t.retry_after))
        }
    }

    /// A service error on the identity endpoints: throttling keeps its 429, anything else is
    /// a fault of ours.
    pub fn from_service(e: &crate::error::Error) -> Self {
        match e.throttled {
            Some(t) => Self::throttled(t),
            None => Self::server_error(&e.message),
        }
    }

    /// A fault of ours. The client learns only that it happened (and its correlation id); `what`
    /// stays in `detail`, for the log.
    pub fn server_error(what: &str) -> Self {
        Self { detail: Some(what.to_owned()), ..Self::new("server_error", 90099, 500, "The server could not complete the request: internal error.") }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AADSTS{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

/// A storage failure on the token path is the server's fault: `?` reports it as AADSTS90099.
impl From<crate::ports::StoreError> for OAuthError {
    fn from(e: crate::ports::StoreError) -> Self {
        OAuthError::server_error(&e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_keeps_the_stores_words_out_of_the_reply() {
        let e = OAuthError::server_error("invalid byte sequence for encoding \"UTF8\": 0x00");
        assert_eq!((e.error, e.code, e.status), ("server_error", 90099, 500));
        assert!(!e.description.contains("UTF8") && !e.to_string().contains("0x00"), "{e}");
        assert_eq!(e.detail.as_deref(), Some("invalid byte sequence for encoding \"UTF8\": 0x00"));
        let from_store: OAuthError = crate::ports::StoreError::Unavailable("connection refused".into()).into();
        assert!(!from_store.to_string().contains("refused") && from_store.detail.is_some_and(|d| d.contains("refused")));
    }
}
