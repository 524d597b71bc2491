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
    /// Set when an application calls with a client-credentials token (R13). `user_id` then
    /// holds its service principal id, which names no user, so directory rules never match it.
    pub application: Option<crate::ids::ApplicationId>,
    /// What the credential allows beyond the principal's own role (Graph tokens).
    pub access: Access,
}

/// What the caller's credential allows. Sessions and account-API tokens carry no permissions of
/// their own: the directory role decides (R4). A Graph token carries permissions that
/// `authz::directory` checks per operation ([`crate::graph::DirectoryOp`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    Direct,
    /// An app-only Graph token: the application permissions granted to the app (its `roles`).
    GraphApp(Vec<crate::graph::GraphPermission>),
    /// A delegated Graph token: its scopes (`scp`), limited further by the user's role.
    GraphDelegated(Vec<String>),
}

impl Actor {
    /// An instance administrator: a global admin of the personal-accounts tenant (the owner
    /// is one). They administer the deployment: every tenant and its directory.
    pub fn is_instance_admin(&self) -> bool {
        self.global_admin && self.tenant_id == PERSONAL_ACCOUNTS_TENANT && self.application.is_none()
    }

    /// The principal acting: the user, or the application.
    pub fn principal(&self) -> crate::model::PrincipalRef {
        match self.application {
            Some(a) => crate::model::PrincipalRef::Application(a),
            None => crate::model::PrincipalRef::User(self.user_id),
        }
    }
}
