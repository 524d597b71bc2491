//! Who is calling: the authenticated principal every service call is checked against.

use crate::ids::{PERSONAL_ACCOUNTS_TENANT, SessionId, TenantId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    /// The tenant the user signed in through (their home tenant).
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    pub global_admin: bool,
    pub must_change_password: bool,
}

impl Actor {
    /// An instance administrator: a global admin of the personal-accounts tenant (the owner
    /// is one). They administer the deployment: every tenant and its directory.
    pub fn is_instance_admin(&self) -> bool {
        self.global_admin && self.tenant_id == PERSONAL_ACCOUNTS_TENANT
    }
}
