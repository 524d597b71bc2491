//! The storage port, one trait per area joined by [`Tx`]. SQL for each area lives in
//! `atrium-store/src/sql/<area>.rs`; its conformance tests in `atrium-store/tests/store/<area>.rs`.

use crate::audit::{AuditEvent, AuditFilter};
use crate::ids::{
    AccountId, ApplicationId, ClientId, DirectoryRequestId, GroupId, InvitationId, KeyId, MailId,
    ProductId, ProvisioningTokenId, SessionId, SubscriptionId, TenantId, UserId,
};
use crate::model::{
    Account, Activity, AppCoadmin, AppKey, Application, AuthCode, Coadmin, DirectoryRequest, Group, Invitation,
    Mail, MailStatus, Member, PendingAssociation, PrincipalRef, Product, RefreshToken, Session,
    ProvisioningToken, SigningKey, Subscription, Tenant, User,
};
use crate::page::ListQuery;
use crate::query::DirectoryQuery;
use crate::time::Timestamp;
use async_trait::async_trait;

/// What can go wrong below the services.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint rejected the write. Each write has one natural key, so the
    /// caller knows which.
    #[error("conflict with an existing row")]
    Conflict,
    /// A foreign key rejected the write: a referenced row does not exist.
    #[error("a referenced row does not exist")]
    MissingReference,
    /// A stored value no longer parses: the database was changed outside Atrium.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Backend(String),
}

/// The storage port. Each service call runs in one transaction from [`Store::begin`], so
/// nothing is ever half written.
#[async_trait]
pub trait Store: Send + Sync {
    /// A read-write transaction.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// A read-only handle (on SQLite from the reader pool, beside the one writer). It skips
    /// BEGIN/COMMIT: each statement sees the latest committed data, so use [`Store::begin`]
    /// where several reads must see one snapshot.
    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// The backend's name, `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The connection pools' use right now (for metrics).
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }
    /// Closes the pools: later calls fail as `Unavailable`. On SQLite closing the last
    /// connection checkpoints the WAL into the database file.
    async fn close(&self) {}
}

/// One connection pool's use, as metrics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// `main` (PostgreSQL), `writer` or `readers` (SQLite).
    pub pool: &'static str,
    /// Open connections, busy or idle.
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Mail still to be delivered: queued or being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStats {
    pub pending: u64,
    /// When the oldest of them was written.
    pub oldest_created_at: Option<Timestamp>,
}

/// One transaction over every area. Dropping it without [`Tx::commit`] rolls it back. After a
/// method returns an error the transaction is finished: PostgreSQL aborts it (a later commit
/// rolls back), so callers drop it rather than carry on, and the backends behave alike.
///
/// The methods live in one trait per area, so a feature adds to its own area; services still
/// take one transaction and call across areas (on `dyn Tx` every area's methods resolve
/// without importing the area traits).
#[async_trait]
pub trait Tx:
    DirectoryTx
    + ApplicationTx
    + IdentityTx
    + AuditTx
    + AccountTx
    + InvitationTx
    + MailTx
    + SubscriptionTx
    + ProvisioningTx
    + MfaTx
    + PasskeyTx
    + SignInLogTx
    + ThrottleTx
    + AppRoleTx
    + Send
{
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Tenants, users and groups: the directory itself.
///
/// Every query on users and groups takes the tenant, so an id from another tenant simply is not
/// found (404), and composite foreign keys keep group members in their group's tenant.
#[async_trait]
pub trait DirectoryTx: Send {
    // Tenants.
    async fn insert_tenant(&mut self, t: &Tenant) -> Result<(), StoreError>;
    async fn get_tenant(&mut self, id: TenantId) -> Result<Option<Tenant>, StoreError>;
    async fn find_tenant_by_domain(&mut self, domain: &str) -> Result<Option<Tenant>, StoreError>;
    async fn update_tenant(&mut self, t: &Tenant) -> Result<bool, StoreError>;
    async fn delete_tenant(&mut self, id: TenantId) -> Result<bool, StoreError>;
    /// Ordered by domain; the prefix matches the domain or the lower-cased display name.
    async fn list_tenants(&mut self, q: &ListQuery) -> Result<Vec<Tenant>, StoreError>;

    // Users.
    async fn insert_user(&mut self, u: &User) -> Result<(), StoreError>;
    async fn get_user(&mut self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError>;
    async fn find_user_by_upn(
        &mut self,
        tenant: TenantId,
        upn_normalized: &str,
    ) -> Result<Option<User>, StoreError>;
    async fn find_user_by_mail(
        &mut self,
        tenant: TenantId,
        mail_lower: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Users of the tenant whose `mail` is `email_lower` (case-insensitively), at most `limit`.
    async fn find_users_by_mail(
        &mut self,
        tenant: TenantId,
        email_lower: &str,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
    async fn update_user(&mut self, u: &User) -> Result<bool, StoreError>;
    async fn delete_user(&mut self, tenant: TenantId, id: UserId) -> Result<bool, StoreError>;
    /// The users of `tenant` that match the query, in its order, after its cursor, at most
    /// `limit + 1` (the extra row tells the caller that more exist).
    async fn query_users(
        &mut self,
        tenant: TenantId,
        q: &DirectoryQuery,
    ) -> Result<Vec<User>, StoreError>;
    /// Reserves one password check for the user, atomically and before the (slow) hash is
    /// verified, in one `UPDATE ... RETURNING`: `Locked` while `locked_until` is after `now`;
    /// otherwise (an expired lock starts the failure count again, an expired lease frees the
    /// checks in flight) the check is `Granted` only while `failed_sign_ins` plus the checks in
    /// flight is under `threshold`: then one more is in flight and the lease runs to
    /// `lease_until`. Else `Busy` (nothing changes): try again shortly. So however many checks
    /// run at once, on any node, they can never add up to more than `threshold` failures, and
    /// correct passwords are never counted as failures. A user that does not exist is `Locked`
    /// (never checked). Every granted check ends with [`ThrottleTx::finish_sign_in`].
    async fn reserve_sign_in(
        &mut self,
        tenant: TenantId,
        id: UserId,
        now: Timestamp,
        threshold: i32,
        lease_until: Timestamp,
    ) -> Result<SignInReservation, StoreError>;
    async fn record_sign_in_success(
        &mut self,
        tenant: TenantId,
        id: UserId,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    // Groups.
    async fn insert_group(&mut self, g: &Group) -> Result<(), StoreError>;
    async fn get_group(
        &mut self,
        tenant: TenantId,
        id: GroupId,
    ) -> Result<Option<Group>, StoreError>;
    async fn update_group(&mut self, g: &Group) -> Result<bool, StoreError>;
    async fn delete_group(&mut self, tenant: TenantId, id: GroupId) -> Result<bool, StoreError>;
    /// The groups of `tenant` that match the query, like [`DirectoryTx::query_users`].
    /// How many of the tenant's users match `q`'s filter (its order, cursor and limit aside).
    async fn count_users(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<u64, StoreError>;
    async fn count_groups(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<u64, StoreError>;
    async fn query_groups(
        &mut self,
        tenant: TenantId,
        q: &DirectoryQuery,
    ) -> Result<Vec<Group>, StoreError>;
    /// `Conflict` if already a member; `MissingReference` if the group or user is not in `tenant`.
    async fn add_group_member(
        &mut self,
        tenant: TenantId,
        group: GroupId,
        user: UserId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    async fn remove_group_member(
        &mut self,
        tenant: TenantId,
        group: GroupId,
        user: UserId,
    ) -> Result<bool, StoreError>;
    /// Members ordered by normalized UPN, paged like [`DirectoryTx::query_users`].
    async fn list_group_members(
        &mut self,
        tenant: TenantId,
        group: GroupId,
        q: &ListQuery,
    ) -> Result<Vec<User>, StoreError>;
    async fn list_user_groups(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<Group>, StoreError>;
    /// Just the ids of a user's groups.
    async fn user_group_ids(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<GroupId>, StoreError>;
}

/// App registrations and their client-secret keys. Reply URLs and App ID URIs are unique per
/// tenant (case-insensitively) in the schema: `Conflict` names no field, so callers look up
/// which one clashed.
#[async_trait]
pub trait ApplicationTx: Send {
    // Applications.
    async fn insert_application(&mut self, a: &Application) -> Result<(), StoreError>;
    async fn get_application(
        &mut self,
        tenant: TenantId,
        id: ApplicationId,
    ) -> Result<Option<Application>, StoreError>;
    async fn find_application_by_client_id(
        &mut self,
        tenant: TenantId,
        client_id: ClientId,
    ) -> Result<Option<Application>, StoreError>;
    async fn find_application_by_app_id_uri(
        &mut self,
        tenant: TenantId,
        uri_normalized: &str,
    ) -> Result<Option<Application>, StoreError>;
    async fn find_application_by_reply_url(
        &mut self,
        tenant: TenantId,
        url_normalized: &str,
    ) -> Result<Option<Application>, StoreError>;
    /// Replaces the row and its Reply URLs.
    async fn update_application(&mut self, a: &Application) -> Result<bool, StoreError>;
    async fn delete_application(
        &mut self,
        tenant: TenantId,
        id: ApplicationId,
    ) -> Result<bool, StoreError>;
    /// The app registrations (or their service principals) of `tenant` that match the query,
    /// like [`DirectoryTx::query_users`].
    async fn query_applications(
        &mut self,
        tenant: TenantId,
        q: &DirectoryQuery,
    ) -> Result<Vec<Application>, StoreError>;

    // Client-secret keys.
    async fn insert_app_key(&mut self, k: &AppKey) -> Result<(), StoreError>;
    async fn list_app_keys(
        &mut self,
        tenant: TenantId,
        app: ApplicationId,
    ) -> Result<Vec<AppKey>, StoreError>;
    async fn delete_app_key(
        &mut self,
        tenant: TenantId,
        app: ApplicationId,
        key: KeyId,
    ) -> Result<bool, StoreError>;
}

/// Sign-in sessions and the token side of the identity platform: signing keys, authorization
/// codes and refresh tokens (codes and tokens stored by hash), and deployment settings.
#[async_trait]
pub trait IdentityTx: Send {
    // Sessions.
    async fn insert_session(&mut self, s: &Session) -> Result<(), StoreError>;
    async fn get_session_by_token_hash(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<Session>, StoreError>;
    async fn delete_session(&mut self, id: SessionId) -> Result<bool, StoreError>;
    /// Revokes every session of a user except `keep` (after a password change or disable).
    async fn delete_user_sessions(
        &mut self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError>;
    async fn purge_expired_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError>;

    // Key-value settings of the deployment (e.g. whether the owner was bootstrapped).
    async fn get_meta(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    async fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError>;

    // Token-signing keys.
    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<(), StoreError>;
    /// Every key not retired before `retired_after`, newest first.
    async fn list_signing_keys(
        &mut self,
        retired_after: Timestamp,
    ) -> Result<Vec<SigningKey>, StoreError>;
    /// Retires every key but `keep`.
    async fn retire_signing_keys(&mut self, keep: &str, at: Timestamp) -> Result<u64, StoreError>;

    // Authorization codes and refresh tokens.
    async fn insert_auth_code(&mut self, c: &AuthCode) -> Result<(), StoreError>;
    /// Marks the code redeemed and returns it, or returns it unchanged when it was redeemed
    /// already (the caller treats that as a replay).
    async fn redeem_auth_code(
        &mut self,
        hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<(AuthCode, bool)>, StoreError>;
    async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<(), StoreError>;
    /// The token with `revoked_at` set if it, or its whole family, was revoked.
    async fn get_refresh_token(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<RefreshToken>, StoreError>;
    /// Spends a token. False if it was already spent: of concurrent redemptions exactly one
    /// gets true (the UPDATE's row lock decides).
    async fn revoke_refresh_token(
        &mut self,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn revoke_refresh_family(
        &mut self,
        family: uuid::Uuid,
        at: Timestamp,
    ) -> Result<u64, StoreError>;
    /// Revokes every refresh token of a user (password reset, disable).
    async fn revoke_user_refresh_tokens(
        &mut self,
        user: UserId,
        at: Timestamp,
    ) -> Result<u64, StoreError>;
}

/// The audit log (append-only).
#[async_trait]
pub trait AuditTx: Send {
    async fn insert_audit(&mut self, e: &AuditEvent) -> Result<(), StoreError>;
    /// Newest first, narrowed by every set field of the filter.
    async fn list_audit(&mut self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Partner accounts: their tenants, members, products and activity history.
#[async_trait]
pub trait AccountTx: Send {
    // Accounts.
    async fn insert_account(&mut self, a: &Account) -> Result<(), StoreError>;
    async fn get_account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError>;
    async fn update_account(&mut self, a: &Account) -> Result<bool, StoreError>;
    /// Accounts the user owns or is a member of (directly or through one of `groups`).
    async fn list_accounts_for_user(
        &mut self,
        tenant: TenantId,
        user: UserId,
        groups: &[GroupId],
    ) -> Result<Vec<Account>, StoreError>;

    // Associated tenants.
    /// `Conflict` when already associated.
    async fn associate_tenant(
        &mut self,
        account: AccountId,
        tenant: TenantId,
        at: Timestamp,
        by: Option<UserId>,
    ) -> Result<(), StoreError>;
    /// The associated tenants, oldest association first, with when they were associated.
    async fn list_account_tenants(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<(Tenant, Timestamp)>, StoreError>;
    /// Just the ids of the associated tenants (the hot path of every account request).
    async fn account_tenant_ids(&mut self, account: AccountId)
    -> Result<Vec<TenantId>, StoreError>;
    /// Removes the association and, by cascade, every grant of the tenant's principals.
    async fn remove_account_tenant(
        &mut self,
        account: AccountId,
        tenant: TenantId,
    ) -> Result<bool, StoreError>;
    async fn count_accounts_of_tenant(&mut self, tenant: TenantId) -> Result<i64, StoreError>;
    async fn insert_pending_association(
        &mut self,
        p: &PendingAssociation,
    ) -> Result<(), StoreError>;
    /// Removes and returns a pending association (single use).
    async fn take_pending_association(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<PendingAssociation>, StoreError>;

    // Members. `MissingReference` when the tenant is not associated with the account.
    async fn insert_member(&mut self, m: &Member) -> Result<(), StoreError>;
    async fn get_member(
        &mut self,
        account: AccountId,
        principal: PrincipalRef,
    ) -> Result<Option<Member>, StoreError>;
    async fn update_member_grant(
        &mut self,
        account: AccountId,
        principal: PrincipalRef,
        grant_json: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn delete_member(
        &mut self,
        account: AccountId,
        principal: PrincipalRef,
    ) -> Result<bool, StoreError>;
    async fn list_members(&mut self, account: AccountId) -> Result<Vec<Member>, StoreError>;
    /// The member rows that decide a user's access: their own and their groups'.
    async fn member_grants(
        &mut self,
        account: AccountId,
        user: PrincipalRef,
        groups: &[GroupId],
    ) -> Result<Vec<Member>, StoreError>;
    /// Whether the principal is a member of any account (R13: who gets account-API tokens).
    async fn is_member_anywhere(&mut self, principal: PrincipalRef) -> Result<bool, StoreError>;

    // Products.
    async fn insert_product(&mut self, p: &Product) -> Result<(), StoreError>;
    async fn list_products(&mut self, account: AccountId) -> Result<Vec<Product>, StoreError>;
    async fn delete_product(
        &mut self,
        account: AccountId,
        id: ProductId,
    ) -> Result<bool, StoreError>;

    // Activity history.
    async fn insert_activity(&mut self, rows: &[Activity]) -> Result<(), StoreError>;
    async fn list_activity(
        &mut self,
        account: AccountId,
        principal: PrincipalRef,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError>;
    /// The newest activity of every principal of the account.
    async fn last_activity(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<(PrincipalRef, Timestamp)>, StoreError>;
    async fn purge_activity(&mut self, before: Timestamp) -> Result<u64, StoreError>;
}

/// Guest invitations. `Conflict` when the address already has a pending invitation in the tenant.
#[async_trait]
pub trait InvitationTx: Send {
    async fn insert_invitation(&mut self, i: &Invitation) -> Result<(), StoreError>;
    async fn get_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError>;
    async fn find_invitation_by_token_hash(
        &mut self,
        hash: &[u8; 32],
    ) -> Result<Option<Invitation>, StoreError>;
    /// Replaces status, token hash, resend count, expiry and times.
    async fn update_invitation(&mut self, i: &Invitation) -> Result<bool, StoreError>;
    /// Accepts a pending invitation whose token hash is still `hash`. False when another
    /// request accepted, revoked or resent it first (single use, even under a race).
    async fn accept_invitation(
        &mut self,
        id: InvitationId,
        hash: &[u8; 32],
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Newest first.
    async fn list_invitations(&mut self, account: AccountId)
    -> Result<Vec<Invitation>, StoreError>;
    /// The pending invitation of a guest, if any ("Invitation pending" in member lists).
    async fn pending_invitation_of_user(
        &mut self,
        user: UserId,
    ) -> Result<Option<Invitation>, StoreError>;
}

/// The mail outbox.
#[async_trait]
pub trait MailTx: Send {
    async fn insert_mail(&mut self, m: &Mail) -> Result<(), StoreError>;
    async fn get_mail(&mut self, id: MailId) -> Result<Option<Mail>, StoreError>;
    /// Newest first, optionally narrowed to one invitation or one status.
    async fn list_mail(
        &mut self,
        invitation: Option<InvitationId>,
        status: Option<MailStatus>,
        limit: u32,
    ) -> Result<Vec<Mail>, StoreError>;
    /// Every mail sent for the account's invitations, newest first.
    async fn list_account_mail(&mut self, account: AccountId) -> Result<Vec<Mail>, StoreError>;
    /// Claims up to `limit` due mails (queued and due, or sending with an expired lease) for
    /// this worker: marks them `sending` until `lease_until` and counts the attempt. Concurrent
    /// claimers never get the same row (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    async fn claim_mail(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Mail>, StoreError>;
    /// Cancels the queued mail of `which` (bodies cleared, `reason` kept as its last error).
    /// Mail a worker has already claimed is left alone: it may be on the wire.
    async fn cancel_mail(&mut self, which: MailOf, at: Timestamp, reason: &str) -> Result<u64, StoreError>;
    /// Records the outcome of an attempt: `Sent`, `Dead` (bodies cleared), or `Queued` again
    /// for `next_attempt_at`.
    async fn finish_mail(
        &mut self,
        id: MailId,
        status: MailStatus,
        at: Timestamp,
        next_attempt_at: Timestamp,
        error: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// How much mail waits (queued or sending) and how old the oldest is: the outbox's depth.
    async fn outbox_stats(&mut self) -> Result<OutboxStats, StoreError>;
}

/// Which mail [`MailTx::cancel_mail`] cancels.
#[derive(Debug, Clone, Copy)]
pub enum MailOf {
    Invitation(InvitationId),
    /// Every mail about the tenant (it was deleted).
    Tenant(TenantId),
    /// The account's mail about the tenant (the tenant left the account).
    AccountTenant(AccountId, TenantId),
}

/// Subscriptions (seed 003): directory requests and consents, co-administrators.
#[async_trait]
pub trait SubscriptionTx: Send {
    async fn insert_subscription(&mut self, s: &Subscription) -> Result<(), StoreError>;
    async fn get_subscription(
        &mut self,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError>;
    /// Writes name, state, directory and `updated_at`. The schema refuses a directory change
    /// while co-administrators of the old directory remain (delete them first).
    async fn update_subscription(&mut self, s: &Subscription) -> Result<bool, StoreError>;
    /// Subscriptions the user owns or co-administers, oldest first.
    async fn list_subscriptions_for_user(
        &mut self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<Subscription>, StoreError>;
    async fn insert_directory_request(&mut self, r: &DirectoryRequest) -> Result<(), StoreError>;
    async fn find_directory_request_by_code(
        &mut self,
        code_hash: &[u8; 32],
    ) -> Result<Option<DirectoryRequest>, StoreError>;
    /// Records the consent once: false when it was consented already or has expired.
    async fn consent_directory_request(
        &mut self,
        id: DirectoryRequestId,
        by: UserId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// The newest consented request of the subscription for `tenant` that has not expired.
    async fn find_consented_directory_request(
        &mut self,
        subscription: SubscriptionId,
        tenant: TenantId,
        now: Timestamp,
    ) -> Result<Option<DirectoryRequest>, StoreError>;
    async fn delete_directory_requests(
        &mut self,
        subscription: SubscriptionId,
    ) -> Result<u64, StoreError>;
    /// The subscription's pending requests (a directory change spends them), newest first.
    async fn list_directory_requests(
        &mut self,
        subscription: SubscriptionId,
    ) -> Result<Vec<DirectoryRequest>, StoreError>;
    /// `Conflict` if already a co-administrator; `MissingReference` if the user is not in the
    /// subscription's directory.
    async fn insert_coadmin(&mut self, c: &Coadmin) -> Result<(), StoreError>;
    async fn delete_coadmin(
        &mut self,
        subscription: SubscriptionId,
        user: UserId,
    ) -> Result<bool, StoreError>;
    /// Co-administrators with their users, ordered by normalized UPN.
    async fn list_coadmins(
        &mut self,
        subscription: SubscriptionId,
    ) -> Result<Vec<(Coadmin, User)>, StoreError>;
    async fn delete_coadmins(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError>;
    /// `Conflict` if the application is one already; `MissingReference` if it is not an
    /// application of the subscription's directory.
    async fn insert_app_coadmin(&mut self, c: &AppCoadmin) -> Result<(), StoreError>;
    async fn delete_app_coadmin(
        &mut self,
        subscription: SubscriptionId,
        application: crate::ids::ApplicationId,
    ) -> Result<bool, StoreError>;
    /// The application co-administrators, oldest first.
    async fn list_app_coadmins(
        &mut self,
        subscription: SubscriptionId,
    ) -> Result<Vec<AppCoadmin>, StoreError>;
    /// Subscriptions the application co-administers, oldest first.
    async fn list_subscriptions_for_app(
        &mut self,
        tenant: TenantId,
        application: crate::ids::ApplicationId,
    ) -> Result<Vec<Subscription>, StoreError>;
    async fn delete_app_coadmins(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError>;
}

/// SCIM provisioning tokens. What a source says about its users and groups is written with
/// them (`User::provisioning`, `Group::provisioning`) by [`DirectoryTx`].
#[async_trait]
pub trait ProvisioningTx: Send {
    async fn insert_provisioning_token(&mut self, t: &ProvisioningToken) -> Result<(), StoreError>;
    /// The tenant's tokens, oldest first (expired ones too, until revoked).
    async fn list_provisioning_tokens(&mut self, tenant: TenantId) -> Result<Vec<ProvisioningToken>, StoreError>;
    async fn find_provisioning_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<ProvisioningToken>, StoreError>;
    /// Revokes (deletes) a token; `false` when the tenant has no such token.
    async fn delete_provisioning_token(&mut self, tenant: TenantId, id: ProvisioningTokenId) -> Result<bool, StoreError>;
}

/// Multi-factor sign-in: a user's TOTP authenticator, recovery codes, and the tenant policy.
#[async_trait]
pub trait MfaTx: Send {
    async fn get_totp(&mut self, tenant: TenantId, user: UserId) -> Result<Option<crate::model::TotpMethod>, StoreError>;
    /// Writes a new, unconfirmed authenticator, replacing an unconfirmed one; `false` (and
    /// nothing written) when the user already has a confirmed one.
    async fn put_pending_totp(&mut self, t: &crate::model::TotpMethod) -> Result<bool, StoreError>;
    /// Confirms the pending authenticator with the step of its first code; `false` if none is pending.
    async fn confirm_totp(&mut self, user: UserId, step: i64, at: Timestamp) -> Result<bool, StoreError>;
    /// Spends time step `step` of the confirmed authenticator: one conditional UPDATE, so of two
    /// uses of the same code (or an older one) only the first succeeds.
    async fn use_totp_step(&mut self, user: UserId, step: i64) -> Result<bool, StoreError>;
    /// Replaces a raw secret (a row written before secrets were sealed) with its sealed form;
    /// `false` when the row is gone or already sealed.
    async fn seal_totp_secret(&mut self, user: UserId, sealed: &[u8]) -> Result<bool, StoreError>;
    /// Up to `limit` authenticators whose secret is still raw.
    async fn list_unsealed_totp(&mut self, limit: u32) -> Result<Vec<crate::model::TotpMethod>, StoreError>;
    /// Replaces the user's recovery codes with these hashes.
    async fn replace_recovery_codes(&mut self, tenant: TenantId, user: UserId, hashes: &[[u8; 32]]) -> Result<(), StoreError>;
    /// Spends one recovery code; `false` if it is unknown or was used (of two concurrent uses, one wins).
    async fn use_recovery_code(&mut self, user: UserId, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError>;
    async fn count_unused_recovery_codes(&mut self, user: UserId) -> Result<u32, StoreError>;
    /// Deletes every method of the user (authenticator and recovery codes); `true` if any existed.
    async fn delete_mfa(&mut self, user: UserId) -> Result<bool, StoreError>;
    async fn get_mfa_policy(&mut self, tenant: TenantId) -> Result<bool, StoreError>;
    async fn set_mfa_policy(&mut self, tenant: TenantId, require_global_admins: bool) -> Result<(), StoreError>;
}

/// Passkeys (WebAuthn credentials) and the state of their ceremonies in progress.
#[async_trait]
pub trait PasskeyTx: Send {
    /// `Conflict` when the credential id is already registered (to anyone).
    async fn insert_passkey(&mut self, p: &crate::model::Passkey) -> Result<(), StoreError>;
    /// The user's passkeys, oldest first.
    async fn list_passkeys(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<crate::model::Passkey>, StoreError>;
    async fn find_passkey_by_credential_id(&mut self, credential_id: &[u8]) -> Result<Option<crate::model::Passkey>, StoreError>;
    /// `false` when the user has no such passkey.
    async fn rename_passkey(&mut self, tenant: TenantId, user: UserId, id: crate::ids::PasskeyId, name: &str) -> Result<bool, StoreError>;
    /// `false` when the user has no such passkey.
    async fn delete_passkey(&mut self, tenant: TenantId, user: UserId, id: crate::ids::PasskeyId) -> Result<bool, StoreError>;
    /// Deletes all of a user's passkeys; returns how many.
    async fn delete_user_passkeys(&mut self, user: UserId) -> Result<u64, StoreError>;
    /// Records a sign-in with the passkey: its updated credential (counter) and the time.
    /// `false` when it was removed meanwhile.
    async fn record_passkey_use(&mut self, id: crate::ids::PasskeyId, credential: &[u8], at: Timestamp) -> Result<bool, StoreError>;
    async fn insert_passkey_ceremony(&mut self, c: &crate::model::PasskeyCeremony) -> Result<(), StoreError>;
    /// Removes and returns the ceremony in one statement (`DELETE ... RETURNING`): of two
    /// concurrent finishes with one id, only one gets it. Expiry is the caller's to check.
    async fn take_passkey_ceremony(&mut self, id: crate::ids::PasskeyCeremonyId) -> Result<Option<crate::model::PasskeyCeremony>, StoreError>;
    /// Deletes ceremonies that expired before `now`; returns how many.
    async fn purge_passkey_ceremonies(&mut self, now: Timestamp) -> Result<u64, StoreError>;
}

/// Sign-in logs (`crate::sign_ins`): written in batches, read newest first, purged after 30 days.
#[async_trait]
pub trait SignInLogTx: Send {
    async fn insert_sign_ins(&mut self, batch: &[crate::sign_ins::SignInEntry]) -> Result<(), StoreError>;
    /// Newest first (`created_at`, then `id`, descending), after the filter's cursor, at most
    /// `limit + 1` rows.
    async fn list_sign_ins(&mut self, f: &crate::sign_ins::SignInFilter) -> Result<Vec<crate::sign_ins::SignInEntry>, StoreError>;
    /// Deletes rows created before `before`; returns how many.
    async fn purge_sign_ins(&mut self, before: Timestamp) -> Result<u64, StoreError>;
}

/// Throttling counters (fixed windows, shared by every node on the database) and the reset of
/// a user's sign-in failure count outside a sign-in.
#[async_trait]
pub trait ThrottleTx: Send {
    /// Counts one hit of `(scope, key)` in the window starting at `window_start` and returns
    /// the window's count after it, in one statement (concurrent hits are all counted).
    /// `expires_at` is when the row may be purged.
    async fn throttle_hit(&mut self, scope: &str, key: &str, window_start: Timestamp, expires_at: Timestamp) -> Result<i64, StoreError>;
    /// Takes back one hit of `(scope, key)` in the window (never below 0): an attempt that
    /// was counted before it ran and did not fail.
    async fn throttle_refund(&mut self, scope: &str, key: &str, window_start: Timestamp) -> Result<(), StoreError>;
    /// The count of `(scope, key)` in the window (0 when there is none).
    async fn throttle_count(&mut self, scope: &str, key: &str, window_start: Timestamp) -> Result<i64, StoreError>;
    /// Deletes the counters that expired before `now`.
    async fn purge_throttle(&mut self, now: Timestamp) -> Result<u64, StoreError>;
    /// Ends a check granted by [`DirectoryTx::reserve_sign_in`], in one statement: one fewer in
    /// flight (never below 0); the right password clears the failure count (and any lock), a
    /// wrong one adds a failure and locks until `lock_until` when the count reaches
    /// `threshold`. Returns the failure count after it (0 for an unknown user).
    async fn finish_sign_in(
        &mut self,
        tenant: TenantId,
        id: UserId,
        passed: bool,
        threshold: i32,
        lock_until: Timestamp,
    ) -> Result<i32, StoreError>;
}

/// The answer of [`DirectoryTx::reserve_sign_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInReservation {
    /// The password may be checked.
    Granted,
    /// As many checks are in flight as could still fail before the lock: wait and try again.
    Busy,
    /// Locked (or no such user): the password must not be checked.
    Locked,
}

/// App role assignments: app roles (Graph application permissions among them) granted to
/// applications.
#[async_trait]
pub trait AppRoleTx: Send {
    /// Grants the role unless the application already has this role of this resource, in one
    /// statement (concurrent grants of the same role leave one row); true when it was added.
    /// `MissingReference` when the application is gone.
    async fn insert_app_role_assignment(&mut self, a: &crate::model::AppRoleAssignment) -> Result<bool, StoreError>;
    /// The application's assignments, oldest first.
    async fn list_app_role_assignments(&mut self, tenant: TenantId, application: crate::ids::ApplicationId) -> Result<Vec<crate::model::AppRoleAssignment>, StoreError>;
    /// Removes one assignment of the application; false when there is none.
    async fn delete_app_role_assignment(&mut self, tenant: TenantId, application: crate::ids::ApplicationId, id: crate::ids::AppRoleAssignmentId) -> Result<bool, StoreError>;
}
