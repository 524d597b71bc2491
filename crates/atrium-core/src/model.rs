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
    /// Synchronised from an on-premises directory: objects arrive through SCIM and cannot be
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub name: GroupName,
    pub description: Option<Description>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
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

/// The outcome of recording a failed sign-in: the counter after the failure and the lock, if
/// the failure reached the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInFailure {
    pub failed_sign_ins: i32,
    pub locked_until: Option<Timestamp>,
}
