//! Microsoft Graph permissions, as Entra has them: the application permissions are the app
//! roles of the built-in "Microsoft Graph" service principal (appId
//! `00000003-0000-0000-c000-000000000000`) that every tenant has; the delegated permissions are
//! its OAuth2 scopes. This is the one table of them, and the one place that says which
//! permission allows which directory operation. The services check it (`authz::directory`);
//! the Graph adapter only names the operation.
//!
//! Ids and names are Microsoft's (the Graph permissions reference), so tools that send role ids
//! (`az ad app permission add --api-permissions <id>=Role`, `appRoleAssignedTo`) and tools that
//! read `roles` claims both work unchanged.

use uuid::{Uuid, uuid};

/// Microsoft Graph's appId, the same in every tenant.
pub const GRAPH_APP_ID: Uuid = uuid!("00000003-0000-0000-c000-000000000000");
/// The display name of the built-in Graph service principal.
pub const GRAPH_DISPLAY_NAME: &str = "Microsoft Graph";

/// A Graph application permission (an app role of the Graph service principal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GraphPermission {
    UserReadAll,
    UserReadWriteAll,
    UserInviteAll,
    GroupReadAll,
    GroupReadWriteAll,
    GroupMemberReadWriteAll,
    ApplicationReadAll,
    ApplicationReadWriteAll,
    ApplicationReadWriteOwnedBy,
    DirectoryReadAll,
    DirectoryReadWriteAll,
    AppRoleAssignmentReadWriteAll,
    AuditLogReadAll,
}

/// One app role of the Graph service principal, as `appRoles[]` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphAppRole {
    pub permission: GraphPermission,
    /// The permission's name, which is the `roles` claim value (`User.Read.All`).
    pub value: &'static str,
    /// Microsoft's id of the app role.
    pub id: Uuid,
    pub display_name: &'static str,
    pub description: &'static str,
}

const fn role(permission: GraphPermission, value: &'static str, id: Uuid, display_name: &'static str, description: &'static str) -> GraphAppRole {
    GraphAppRole { permission, value, id, display_name, description }
}

/// Every application permission Atrium's Graph knows, with Microsoft's ids.
pub const GRAPH_APP_ROLES: &[GraphAppRole] = &[
    role(GraphPermission::UserReadAll, "User.Read.All", uuid!("df021288-bdef-4463-88db-98f22de89214"), "Read all users' full profiles", "Allows the app to read user profiles without a signed in user."),
    role(GraphPermission::UserReadWriteAll, "User.ReadWrite.All", uuid!("741f803b-c850-494e-b5df-cde7c675a1ca"), "Read and write all users' full profiles", "Allows the app to read and update user profiles without a signed in user."),
    role(GraphPermission::UserInviteAll, "User.Invite.All", uuid!("09850681-111b-4a89-9bed-3f2cae46d706"), "Invite guest users to the organization", "Allows the app to invite guest users to the organization, without a signed-in user."),
    role(GraphPermission::GroupReadAll, "Group.Read.All", uuid!("5b567255-7703-4780-807c-7be8301ae99b"), "Read all groups", "Allows the app to read group properties and memberships, without a signed-in user."),
    role(GraphPermission::GroupReadWriteAll, "Group.ReadWrite.All", uuid!("62a82d76-70ea-41e2-9197-370581804d09"), "Read and write all groups", "Allows the app to create groups, read all group properties and memberships, update group properties and memberships, and delete groups, without a signed-in user."),
    role(GraphPermission::GroupMemberReadWriteAll, "GroupMember.ReadWrite.All", uuid!("dbaae8cf-10b5-4b86-a4a1-f871c94c6695"), "Read and write all group memberships", "Allows the app to list groups, read basic properties, read and update the membership of the groups this app has access to without a signed-in user."),
    role(GraphPermission::ApplicationReadAll, "Application.Read.All", uuid!("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"), "Read all applications", "Allows the app to read all applications and service principals without a signed-in user."),
    role(GraphPermission::ApplicationReadWriteAll, "Application.ReadWrite.All", uuid!("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"), "Read and write all applications", "Allows the app to create, read, update and delete applications and service principals without a signed-in user."),
    role(GraphPermission::ApplicationReadWriteOwnedBy, "Application.ReadWrite.OwnedBy", uuid!("18a4783c-866b-4cc7-a460-3d5e5662c884"), "Manage apps that this app creates or owns", "Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user."),
    role(GraphPermission::DirectoryReadAll, "Directory.Read.All", uuid!("7ab1d382-f21e-4acd-a863-ba3e13f7da61"), "Read directory data", "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user."),
    role(GraphPermission::DirectoryReadWriteAll, "Directory.ReadWrite.All", uuid!("19dbc75e-c2e2-444c-a770-ec69d8559fc7"), "Read and write directory data", "Allows the app to read and write data in your organization's directory, such as users, and groups, without a signed-in user."),
    role(GraphPermission::AppRoleAssignmentReadWriteAll, "AppRoleAssignment.ReadWrite.All", uuid!("06b708a9-e830-4db3-a914-8e69da51d44f"), "Manage app permission grants and app role assignments", "Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user."),
    role(GraphPermission::AuditLogReadAll, "AuditLog.Read.All", uuid!("b0afded3-3588-46d8-8b3d-9842eff778da"), "Read all audit log data", "Allows the app to read and query your audit log activities, without a signed-in user."),
];

impl GraphPermission {
    pub fn app_role(self) -> &'static GraphAppRole {
        // Every variant has exactly one row (a unit test holds this).
        GRAPH_APP_ROLES.iter().find(|r| r.permission == self).unwrap_or(&GRAPH_APP_ROLES[0])
    }
    pub fn value(self) -> &'static str {
        self.app_role().value
    }
    pub fn id(self) -> Uuid {
        self.app_role().id
    }
    /// By name (`User.Read.All`, case-insensitive, as Entra matches them) or by app role id.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let id = Uuid::parse_str(s).ok();
        GRAPH_APP_ROLES.iter().find(|r| Some(r.id) == id || r.value.eq_ignore_ascii_case(s)).map(|r| r.permission)
    }
    pub fn from_id(id: Uuid) -> Option<Self> {
        GRAPH_APP_ROLES.iter().find(|r| r.id == id).map(|r| r.permission)
    }
}

/// An operation on the directory, as permissions are checked for it. REST, the console, SCIM
/// and Graph all name the same operations; only Graph tokens carry permissions to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryOp {
    /// The signed-in user's own profile and groups (`/me`).
    ReadSelf,
    ReadUsers,
    WriteUsers,
    InviteGuests,
    ReadGroups,
    WriteGroups,
    /// Adding and removing group members (not the group's own properties).
    WriteGroupMembers,
    ReadApplications,
    WriteApplications,
    /// The organization and its domains.
    ReadOrganization,
    /// The tenant's sign-in logs (`auditLogs/signIns`).
    ReadSignIns,
}

use GraphPermission as P;

impl DirectoryOp {
    /// Whether the operation changes the directory: a delegated caller then also needs a
    /// directory role that may change it (global administrator, R4).
    pub fn writes(self) -> bool {
        matches!(self, DirectoryOp::WriteUsers | DirectoryOp::InviteGuests | DirectoryOp::WriteGroups | DirectoryOp::WriteGroupMembers | DirectoryOp::WriteApplications)
    }

    /// Whether a delegated caller (or a session) needs a global administrator's role: every
    /// write, and reading the sign-in logs (the REST API's rule, R4).
    pub fn needs_admin(self) -> bool {
        self.writes() || self == DirectoryOp::ReadSignIns
    }

    /// The application permissions any one of which allows the operation (Microsoft's
    /// "least privileged ... higher privileged" lists for each API).
    pub fn app_roles(self) -> &'static [GraphPermission] {
        match self {
            // App-only tokens have no signed-in user: `/me` does not apply.
            DirectoryOp::ReadSelf => &[],
            DirectoryOp::ReadUsers => &[P::UserReadAll, P::UserReadWriteAll, P::DirectoryReadAll, P::DirectoryReadWriteAll],
            DirectoryOp::WriteUsers => &[P::UserReadWriteAll, P::DirectoryReadWriteAll],
            DirectoryOp::InviteGuests => &[P::UserInviteAll, P::UserReadWriteAll, P::DirectoryReadWriteAll],
            DirectoryOp::ReadGroups => &[P::GroupReadAll, P::GroupReadWriteAll, P::GroupMemberReadWriteAll, P::DirectoryReadAll, P::DirectoryReadWriteAll],
            DirectoryOp::WriteGroups => &[P::GroupReadWriteAll, P::DirectoryReadWriteAll],
            DirectoryOp::WriteGroupMembers => &[P::GroupMemberReadWriteAll, P::GroupReadWriteAll, P::DirectoryReadWriteAll],
            DirectoryOp::ReadApplications => &[P::ApplicationReadAll, P::ApplicationReadWriteAll, P::ApplicationReadWriteOwnedBy, P::DirectoryReadAll, P::DirectoryReadWriteAll],
            DirectoryOp::WriteApplications => &[P::ApplicationReadWriteAll, P::DirectoryReadWriteAll],
            // Graph: Organization.Read.All (not granted by Atrium yet) or Directory.Read.All;
            // listing users implies knowing the tenant, so user readers may too.
            DirectoryOp::ReadOrganization => &[P::DirectoryReadAll, P::DirectoryReadWriteAll, P::UserReadAll, P::UserReadWriteAll],
            // Graph's signIn API takes AuditLog.Read.All only (Directory.Read.All is not enough).
            DirectoryOp::ReadSignIns => &[P::AuditLogReadAll],
        }
    }

    /// The delegated scopes (`scp`) any one of which allows the operation for a signed-in
    /// user, whose own directory role must allow it too.
    pub fn delegated_scopes(self) -> &'static [&'static str] {
        const DIR_READ: [&str; 3] = ["Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"];
        match self {
            DirectoryOp::ReadSelf => &["User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", DIR_READ[0], DIR_READ[1], DIR_READ[2]],
            DirectoryOp::ReadUsers => &["User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", DIR_READ[0], DIR_READ[1], DIR_READ[2]],
            DirectoryOp::WriteUsers => &["User.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"],
            DirectoryOp::InviteGuests => &["User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"],
            DirectoryOp::ReadGroups => &["GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", DIR_READ[0], DIR_READ[1], DIR_READ[2]],
            DirectoryOp::WriteGroups => &["Group.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"],
            DirectoryOp::WriteGroupMembers => &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"],
            DirectoryOp::ReadApplications => &["Application.Read.All", "Application.ReadWrite.All", DIR_READ[0], DIR_READ[1], DIR_READ[2]],
            DirectoryOp::WriteApplications => &["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
            DirectoryOp::ReadOrganization => &["User.Read", "Organization.Read.All", DIR_READ[0], DIR_READ[1], DIR_READ[2]],
            DirectoryOp::ReadSignIns => &["AuditLog.Read.All"],
        }
    }
}

/// The `scp` value a delegated Graph token gets for `.default` (`user_impersonation`): Atrium
/// has no per-application delegated consent yet, so `.default` stands for every delegated
/// permission, and the user's directory role alone limits what the token can do.
pub const DEFAULT_DELEGATED: &str = "user_impersonation";

/// Whether delegated scopes `scp` allow `op` (before the user's role is checked).
pub fn delegated_allows(scopes: &[String], op: DirectoryOp) -> bool {
    scopes.iter().any(|s| s == DEFAULT_DELEGATED || op.delegated_scopes().iter().any(|d| d.eq_ignore_ascii_case(s)))
}

/// Whether application permissions `roles` allow `op`.
pub fn app_allows(roles: &[GraphPermission], op: DirectoryOp) -> bool {
    op.app_roles().iter().any(|r| roles.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_one_role_with_its_own_id() {
        let all = [
            P::UserReadAll,
            P::UserReadWriteAll,
            P::UserInviteAll,
            P::GroupReadAll,
            P::GroupReadWriteAll,
            P::GroupMemberReadWriteAll,
            P::ApplicationReadAll,
            P::ApplicationReadWriteAll,
            P::ApplicationReadWriteOwnedBy,
            P::DirectoryReadAll,
            P::DirectoryReadWriteAll,
            P::AppRoleAssignmentReadWriteAll,
            P::AuditLogReadAll,
        ];
        assert_eq!(all.len(), GRAPH_APP_ROLES.len());
        for p in all {
            assert_eq!(GRAPH_APP_ROLES.iter().filter(|r| r.permission == p).count(), 1, "{p:?}");
            assert_eq!(GraphPermission::parse(p.value()), Some(p));
            assert_eq!(GraphPermission::parse(&p.id().to_string()), Some(p));
        }
        assert_eq!(P::UserReadAll.id(), uuid!("df021288-bdef-4463-88db-98f22de89214"));
        assert_eq!(GraphPermission::parse("user.read.all"), Some(P::UserReadAll));
        assert_eq!(GraphPermission::parse("Mail.Send"), None);
    }

    #[test]
    fn reading_does_not_allow_writing() {
        assert!(app_allows(&[P::UserReadAll], DirectoryOp::ReadUsers));
        assert!(!app_allows(&[P::UserReadAll], DirectoryOp::WriteUsers));
        assert!(!app_allows(&[P::UserReadWriteAll], DirectoryOp::ReadSelf));
        assert!(app_allows(&[P::GroupMemberReadWriteAll], DirectoryOp::WriteGroupMembers));
        assert!(!app_allows(&[P::GroupMemberReadWriteAll], DirectoryOp::WriteGroups));
        assert!(delegated_allows(&["User.Read".into()], DirectoryOp::ReadSelf));
        assert!(!delegated_allows(&["User.Read".into()], DirectoryOp::ReadUsers));
        assert!(delegated_allows(&[DEFAULT_DELEGATED.into()], DirectoryOp::WriteUsers));
    }

    #[test]
    fn only_audit_log_read_all_reads_sign_ins() {
        assert_eq!(P::AuditLogReadAll.id(), uuid!("b0afded3-3588-46d8-8b3d-9842eff778da"));
        assert_eq!(GraphPermission::parse("AuditLog.Read.All"), Some(P::AuditLogReadAll));
        assert!(app_allows(&[P::AuditLogReadAll], DirectoryOp::ReadSignIns));
        assert!(!app_allows(&[P::DirectoryReadAll, P::DirectoryReadWriteAll, P::UserReadWriteAll], DirectoryOp::ReadSignIns));
        assert!(!app_allows(&[P::AuditLogReadAll], DirectoryOp::ReadUsers));
        assert!(delegated_allows(&["AuditLog.Read.All".into()], DirectoryOp::ReadSignIns));
        assert!(!delegated_allows(&["Directory.Read.All".into()], DirectoryOp::ReadSignIns));
        assert!(DirectoryOp::ReadSignIns.needs_admin() && !DirectoryOp::ReadSignIns.writes());
    }
}
