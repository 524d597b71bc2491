//! Sign-in logs as Entra keeps them (Graph `microsoft.graph.signIn`): one row per attempt, by a
//! user or an application, successful or not, kept 30 days.

use crate::ids::{TenantId, UserId};
use crate::time::Timestamp;

/// How long sign-in logs are kept (Entra keeps them 30 days on P1/P2).
pub const SIGN_IN_LOG_DAYS: i64 = 30;

/// Entra's `signInEventTypes`: who signed in, and whether a person was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    /// A person typed credentials (console, REST sign-in, authorize page, ROPC).
    InteractiveUser,
    /// A client acted for a user without them (authorization code redemption, refresh token).
    NonInteractiveUser,
    /// An application with its own credentials (client credentials).
    ServicePrincipal,
}

impl SignInKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InteractiveUser => "interactiveUser",
            Self::NonInteractiveUser => "nonInteractiveUser",
            Self::ServicePrincipal => "servicePrincipal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::InteractiveUser, Self::NonInteractiveUser, Self::ServicePrincipal].into_iter().find(|k| k.as_str() == s)
    }
}

/// One sign-in attempt. Never holds a password, secret or token: the typed user name is kept,
/// as Entra keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInEntry {
    pub id: uuid::Uuid,
    pub created_at: Timestamp,
    pub tenant_id: TenantId,
    pub kind: SignInKind,
    /// The user, when the name matched one.
    pub user_id: Option<UserId>,
    /// As typed (or the user's UPN for non-interactive sign-ins).
    pub user_principal_name: Option<String>,
    /// The client id, as presented (it may name no application).
    pub app_id: Option<String>,
    pub app_display_name: Option<String>,
    /// Entra's `clientAppUsed`: `Browser`, `Mobile Apps and Desktop clients`, ...
    pub client_app_used: String,
    /// 0 on success; otherwise the AADSTS number (50126, 50053, 50057, 7000215, ...).
    pub error_code: i32,
    pub failure_reason: Option<String>,
    /// Whether a second factor was used (filled by the MFA step).
    pub mfa: bool,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
}

impl SignInEntry {
    pub fn succeeded(&self) -> bool {
        self.error_code == 0
    }

    /// The opaque cursor key of this row (newest first, ties by id).
    pub fn cursor_key(&self) -> String {
        format!("{}:{}", self.created_at.as_millis(), self.id)
    }
}

/// Which sign-ins to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInFilter {
    pub tenant_id: Option<TenantId>,
    pub user_id: Option<UserId>,
    pub app_id: Option<String>,
    /// `Some(true)`: successes only; `Some(false)`: failures only.
    pub success: Option<bool>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Only the entry with this id.
    pub id: Option<uuid::Uuid>,
    /// Continue after this row (`created_at`, `id`).
    pub after: Option<(Timestamp, uuid::Uuid)>,
    /// Rows to return; the store returns up to `limit + 1`.
    pub limit: u32,
}

/// Parses a cursor key made by [`SignInEntry::cursor_key`].
pub fn parse_cursor_key(key: &str) -> Option<(Timestamp, uuid::Uuid)> {
    let (ms, id) = key.split_once(':')?;
    Some((Timestamp::from_millis(ms.parse().ok()?), uuid::Uuid::parse_str(id).ok()?))
}

/// Parses an RFC 3339 date-time (`2026-11-25T16:26:45Z`).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let t = ::time::OffsetDateTime::parse(s.trim(), &::time::format_description::well_known::Rfc3339).ok()?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).ok().map(Timestamp::from_millis)
}

/// Where the services hand finished attempts. The server queues them and writes them in
/// batches off the request path; it also fills the request's address, user agent and
/// correlation id when the entry has none.
pub trait SignInSink: Send + Sync {
    fn record(&self, entry: SignInEntry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let id = uuid::Uuid::from_u128(7);
        let key = format!("{}:{}", 1_700_000_000_123_i64, id);
        assert_eq!(parse_cursor_key(&key), Some((Timestamp::from_millis(1_700_000_000_123), id)));
        assert_eq!(parse_cursor_key("x:y"), None);
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(Timestamp::from_millis(1000)));
        assert_eq!(parse_time("yesterday"), None);
    }
}
