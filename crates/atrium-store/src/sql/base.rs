// The Store implementation shared by both backends. This file is `include!`d by `sqlite.rs` and
// `postgres.rs`, each of which defines `Db` and the backend's constants (`MIGRATIONS`,
// `MIGRATION_LOCK`, `COMMIT_PROBE`, `CLAIM_LOCK`, `TEXT_ORDER`, `CONTAINS_FN`) first, so every
// query is written once and type-checked twice. Each area's SQL is its own file, compiled as a
// submodule here: a new store method goes into `sql/<area>.rs` beside its trait in
// `atrium_core::ports::store`. Write SQL that both backends accept: `$n` parameters, no
// `ILIKE`, no `NOW()`, no casts, epoch-millisecond BIGINTs for time.

use atrium_core::audit::{AuditEvent, AuditFilter};
use atrium_core::domain::{AppIdUri, Description, DisplayName, Email, GroupName, PasswordHash, PersonName, ReplyUrl, TenantDomain, Upn};
use atrium_core::ids::{
    AccountId, ApplicationId, AuditEventId, ClientId, DirectoryRequestId, GroupId, InvitationId, KeyId, MailId, ProductId, ServicePrincipalId, SessionId,
    SubscriptionId, TenantId, UserId, ProvisioningTokenId,
};
use atrium_core::model::{
    Account, AccountType, Activity, AppCoadmin, AppKey, Application, AuthCode, Coadmin, DirectoryRequest, Group, Invitation, InvitationStatus, Mail, MailStatus,
    Member, PendingAssociation, PrincipalRef, Product, ProvisionedGroup, ProvisionedUser, ProvisioningToken, RefreshToken, Session, SigningKey, Subscription, SubscriptionState, Tenant, User,
    UserType,
};
use atrium_core::page::ListQuery;
use atrium_core::time::Timestamp;
use sqlx::Row;
use uuid::Uuid;

use atrium_core::ports::store::{AccountTx, AppRoleTx, ApplicationTx, AuditTx, DirectoryTx, IdentityTx, InvitationTx, MailOf, MailTx, MfaTx, PasskeyTx, ProvisioningTx, SignInReservation, SubscriptionTx, ThrottleTx};
use crate::map_err;

type DbRow = <Db as sqlx::Database>::Row;

include!("rows.rs");

// One submodule per area; `use super::*` gives each the imports, rows and helpers above.
mod directory {
    use super::*;
    include!("directory.rs");
}
mod applications {
    use super::*;
    include!("applications.rs");
}
mod identity {
    use super::*;
    include!("identity.rs");
}
mod audit {
    use super::*;
    include!("audit.rs");
}
mod accounts {
    use super::*;
    include!("accounts.rs");
}
mod invitations {
    use super::*;
    include!("invitations.rs");
}
mod mail {
    use super::*;
    include!("mail.rs");
}
mod provisioning {
    use super::*;
    include!("provisioning.rs");
}
mod throttle {
    use super::*;
    include!("throttle.rs");
}
mod subscriptions {
    use super::*;
    include!("subscriptions.rs");
}
mod query {
    use super::*;
    include!("query.rs");
}
mod mfa {
    use super::*;
    include!("mfa.rs");
}
mod app_roles {
    use super::*;
    include!("app_roles.rs");
}
mod sign_ins {
    use super::*;
    include!("sign_ins.rs");
}
mod passkeys {
    use super::*;
    include!("passkeys.rs");
}

/// A write transaction, or a plain pooled connection for reads: read-only service calls
/// skip BEGIN/COMMIT (two round trips), and each of their statements still sees committed data.
pub(crate) enum DbTx {
    Write(sqlx::Transaction<'static, Db>),
    Read(sqlx::pool::PoolConnection<Db>),
}

impl DbTx {
    fn c(&mut self) -> &mut <Db as sqlx::Database>::Connection {
        match self {
            DbTx::Write(t) => &mut *t,
            DbTx::Read(c) => &mut *c,
        }
    }
}

/// A pool's use, for metrics.
fn stats(name: &'static str, pool: &sqlx::Pool<Db>) -> atrium_core::ports::PoolStats {
    atrium_core::ports::PoolStats {
        pool: name,
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}

/// Applies the embedded migrations that are not yet recorded, in one transaction. A migration
/// whose text changed after it was applied is an error: migrations are append-only.
async fn run_migrations(pool: &sqlx::Pool<Db>) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    if let Some(lock) = MIGRATION_LOCK {
        sqlx::query(lock).execute(&mut *tx).await.map_err(map_err)?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS atrium_migrations (version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let applied = sqlx::query("SELECT version, checksum FROM atrium_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let checksum = hex(&atrium_core::secret::sha256(sql.as_bytes()));
        let existing = applied.iter().find(|r| r.try_get::<i64, _>("version").ok() == Some(*version));
        if let Some(r) = existing {
            let stored: String = r.try_get("checksum").map_err(map_err)?;
            if stored != checksum {
                return Err(StoreError::Corrupt(format!("migration {version} ({name}) changed after it was applied")));
            }
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| StoreError::Backend(format!("migration {version} ({name}): {e}")))?;
        sqlx::query("INSERT INTO atrium_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(*name)
            .bind(&checksum)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        done.push(*version);
    }
    tx.commit().await.map_err(map_err)?;
    Ok(done)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The prefix range and the cursor as SQL parameters. With no cursor, `''` sorts before
/// every key, so one query text serves the first page and the next ones.
fn page_params(q: &ListQuery) -> (String, i64) {
    (q.after.clone().unwrap_or_default(), i64::from(q.limit))
}

#[async_trait]
impl Tx for DbTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        match *self {
            DbTx::Write(mut tx) => {
                if let Some(probe) = COMMIT_PROBE {
                    // PostgreSQL answers COMMIT on an aborted transaction with a silent
                    // ROLLBACK. The probe fails in that state, so a caller never believes a
                    // rolled-back write landed.
                    sqlx::query(probe).execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
            // Reads have nothing to commit.
            DbTx::Read(_) => Ok(()),
        }
    }
}

impl DbTx {
    /// A directory object that is deleted stops being a member of any account.
    async fn delete_memberships_of(&mut self, principal: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM account_members WHERE principal_id = $1")
            .bind(principal)
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }
}
