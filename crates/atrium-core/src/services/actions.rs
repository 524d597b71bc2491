//! What the caller may do on a page: one answer per action, decided by the same checks the
//! operation itself runs, so a button can never disagree with the service behind it.
//!
//! Adapters show or disable buttons from these answers and explain a refusal with its error;
//! the operations still check again when they run (the answers can go stale between the page
//! and the click).

use super::accounts::AccountCaller;
use super::Services;
use crate::actor::Actor;
use crate::error::{Error, ErrorCode};
use crate::ids::{AccountId, PERSONAL_ACCOUNTS_TENANT};
use crate::model::{Account, PrincipalRef, Tenant};

/// Whether one action is allowed; if not, the error its operation refuses it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict(Result<(), Error>);

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.0.is_ok()
    }

    /// Why the action is refused, or `None` when it is allowed.
    pub fn refusal(&self) -> Option<&Error> {
        self.0.as_ref().err()
    }

    /// A check's outcome as an answer: a refusal (4xx) is an answer, a fault (5xx, such as
    /// the store failing) is not and is returned as the error.
    fn of<T>(r: Result<T, Error>) -> Result<Self, Error> {
        match r {
            Ok(_) => Ok(Verdict(Ok(()))),
            Err(e) if e.code.http_status() >= 500 => Err(e),
            Err(e) => Ok(Verdict(Err(e))),
        }
    }

    /// For checks that never touch the store and so can only allow or refuse.
    fn pure(r: Result<(), Error>) -> Self {
        Verdict(r)
    }
}

/// The actions of an account's pages for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountActions {
    /// Add existing principals, edit access and remove members (R4: `Account users`
    /// read/write; R13). Editing a member of another tenant also needs signing in through it;
    /// see [`MemberActions`].
    pub manage_users: Verdict,
    /// Create users, groups and applications in the tenant the caller signed in through
    /// (A4, R4, R5).
    pub create_in_directory: Verdict,
    /// Invite outside users into the tenant the caller signed in through (R11).
    pub invite: Verdict,
    /// Associate, create and remove tenants, delete products, read the audit log: the Manager
    /// role or the owner.
    pub manage_account: Verdict,
    /// Read a member's activity history (R12): the owner.
    pub view_history: Verdict,
}

/// The actions on one member of an account for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberActions {
    /// Change the member's roles and permissions (R4, R8 is checked on the grant itself).
    pub edit_access: Verdict,
    /// Remove the member from the account (the directory object remains, R9).
    pub remove: Verdict,
    /// Reset a user member's password (global admin of its tenant; not a pending guest).
    pub reset_password: Verdict,
    /// Delete a user member from the organization (global admin of its tenant, not yourself,
    /// not an object a SCIM source owns).
    pub delete_from_organization: Verdict,
    /// Change the member's directory details (a user's names, username and groups, a group's
    /// name and members, an application's Reply URL and App ID URI): a global administrator
    /// signed in through its tenant (R4).
    pub edit_details: Verdict,
    /// Change the attributes a SCIM source owns (a user's names and username, a group's name
    /// and members): refused for a provisioned object, which changes at its source.
    pub edit_source_owned: Verdict,
    /// Resend or revoke the member's pending invitation (global admin of its tenant).
    pub manage_invitation: Verdict,
    /// Read the member's activity history (R12): the owner.
    pub view_history: Verdict,
}

/// Whether `actor` owns `account`: the owner is one user of one tenant (the personal-accounts
/// tenant), so both must match.
pub fn is_account_owner(account: &Account, actor: &Actor) -> bool {
    account.owner_user_id == actor.user_id && account.owner_tenant_id == actor.tenant_id
}

/// Accounts are opened with a personal account (a user of the personal-accounts tenant);
/// [`Services::create_account`] runs this.
pub(crate) fn require_account_opener(actor: &Actor) -> Result<(), Error> {
    if actor.tenant_id == PERSONAL_ACCOUNTS_TENANT {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::Forbidden).with_message("Accounts are opened with a personal account (the personal-accounts tenant)."))
    }
}

/// Whether `actor` may open an account.
pub fn may_open_account(actor: &Actor) -> Verdict {
    Verdict::pure(require_account_opener(actor))
}

impl AccountCaller {
    /// The caller's actions on the account's pages. `signed_in` is the tenant the caller
    /// signed in through (creating and inviting happen there); another tenant refuses both.
    pub fn actions(&self, signed_in: &Tenant) -> AccountActions {
        AccountActions {
            manage_users: Verdict::pure(self.require_user_manager()),
            create_in_directory: Verdict::pure(self.require_directory_creator(signed_in)),
            invite: Verdict::pure(self.require_inviter()),
            manage_account: Verdict::pure(self.require_manager()),
            view_history: Verdict::pure(self.require_owner()),
        }
    }
}

impl Services {
    /// The caller's actions on the account's pages (see [`AccountCaller::actions`]).
    pub async fn account_actions(&self, actor: &Actor, account: AccountId) -> Result<AccountActions, Error> {
        let caller = self.account_caller(actor, account).await?;
        let mut tx = self.read().await?;
        let tenant = self.require_tenant(tx.as_mut(), actor.tenant_id).await?;
        Ok(caller.actions(&tenant))
    }

    /// The caller's actions on one member (`kind` and `id` as in the member routes). A member
    /// the caller cannot see is an error (404), not a set of refusals.
    pub async fn member_actions(&self, actor: &Actor, account: AccountId, kind: &str, id: &str) -> Result<MemberActions, Error> {
        let mut tx = self.read().await?;
        let caller = self.caller_in(tx.as_mut(), actor, account).await?;
        let m = self.find_member(tx.as_mut(), account, kind, id).await?;
        let manage = Verdict::pure(caller.require_user_manager_of(m.tenant_id));
        let reset_password = Verdict::of(self.require_password_resetter(tx.as_mut(), &caller, &m).await)?;
        // Whether a SCIM source owns the directory object, as the directory operations check it.
        let source_owned = match m.principal {
            PrincipalRef::User(id) => tx.get_user(m.tenant_id, id).await?.is_some_and(|u| u.provisioning.is_some()).then(|| super::provisioning::source_owned("user")),
            PrincipalRef::Group(id) => tx.get_group(m.tenant_id, id).await?.is_some_and(|g| g.provisioning.is_some()).then(|| super::provisioning::source_owned("group")),
            PrincipalRef::Application(_) => None,
        };
        let edit_source_owned = Verdict::pure(source_owned.clone().map_or(Ok(()), Err));
        // In the order delete_member_from_organization checks: who, then the source.
        let delete_from_organization = Verdict::pure(caller.require_deleter_of(&m).map(drop).and_then(|()| source_owned.map_or(Ok(()), Err)));
        Ok(MemberActions {
            edit_access: manage.clone(),
            remove: manage,
            reset_password,
            delete_from_organization,
            edit_details: Verdict::pure(caller.require_directory_admin_of(m.tenant_id)),
            edit_source_owned,
            manage_invitation: Verdict::pure(caller.require_directory_admin_of(m.tenant_id)),
            view_history: Verdict::pure(caller.require_owner()),
        })
    }
}
