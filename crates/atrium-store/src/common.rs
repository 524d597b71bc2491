// The Store implementation shared by both backends. This file is `include!`d by `sqlite.rs` and
// `postgres.rs`, each of which defines `Db`, `MIGRATIONS` and `MIGRATION_LOCK` first. Write
// SQL that both accept: `$n` parameters, no `ILIKE`, no `NOW()`, no casts, epoch-millisecond
// BIGINTs for time.

use atrium_core::audit::{AuditEvent, AuditFilter};
use atrium_core::domain::{AppIdUri, Description, DisplayName, Email, GroupName, PasswordHash, PersonName, ReplyUrl, TenantDomain, Upn};
use atrium_core::ids::{
    AccountId, ApplicationId, AuditEventId, ClientId, DirectoryRequestId, GroupId, InvitationId, KeyId, MailId, ProductId, ServicePrincipalId, SessionId,
    SubscriptionId, TenantId, UserId,
};
use atrium_core::model::{
    Account, AccountType, Activity, AppKey, Application, AuthCode, Coadmin, DirectoryRequest, Group, Invitation, InvitationStatus, Mail, MailStatus,
    Member, PendingAssociation, PrincipalRef, Product, RefreshToken, Session, SignInFailure, SigningKey, Subscription, SubscriptionState, Tenant, User,
    UserType,
};
use atrium_core::page::ListQuery;
use atrium_core::time::Timestamp;
use sqlx::Row;
use uuid::Uuid;

use crate::map_err;

type DbRow = <Db as sqlx::Database>::Row;

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

fn corrupt(what: &str) -> impl Fn(atrium_core::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

fn opt_ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_millis)
}

fn opt_parse<T>(v: Option<String>, f: impl Fn(&str) -> Result<T, atrium_core::Error>, what: &str) -> Result<Option<T>, StoreError> {
    v.map(|s| f(&s).map_err(corrupt(what))).transpose()
}

const TENANT_COLS: &str = "id, display_name, domain, contact_email, directory_sync, created_at, updated_at";

fn tenant_from_row(r: &DbRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::from_uuid(r.try_get("id").map_err(map_err)?),
        display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
            .map_err(corrupt("tenants.display_name"))?,
        domain: TenantDomain::parse(&r.try_get::<String, _>("domain").map_err(map_err)?).map_err(corrupt("tenants.domain"))?,
        contact_email: opt_parse(r.try_get("contact_email").map_err(map_err)?, |s| Email::parse(s, "contact_email"), "tenants.contact_email")?,
        directory_sync: r.try_get("directory_sync").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

const USER_COLS: &str = "u.id, u.tenant_id, u.upn, u.display_name, u.given_name, u.surname, u.mail, u.user_type, u.enabled, \
    u.password_hash, u.must_change_password, u.recovery_email, u.global_admin, u.failed_sign_ins, u.locked_until, \
    u.last_sign_in, u.created_at, u.updated_at";

fn user_from_row(r: &DbRow) -> Result<User, StoreError> {
    let user_type: String = r.try_get("user_type").map_err(map_err)?;
    Ok(User {
        id: UserId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        upn: Upn::parse(&r.try_get::<String, _>("upn").map_err(map_err)?).map_err(corrupt("users.upn"))?,
        display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
            .map_err(corrupt("users.display_name"))?,
        given_name: opt_parse(r.try_get("given_name").map_err(map_err)?, |s| PersonName::parse(s, "given_name"), "users.given_name")?,
        surname: opt_parse(r.try_get("surname").map_err(map_err)?, |s| PersonName::parse(s, "surname"), "users.surname")?,
        mail: opt_parse(r.try_get("mail").map_err(map_err)?, |s| Email::parse(s, "mail"), "users.mail")?,
        user_type: UserType::parse(&user_type).ok_or_else(|| StoreError::Corrupt(format!("users.user_type: {user_type}")))?,
        enabled: r.try_get("enabled").map_err(map_err)?,
        password_hash: r.try_get::<Option<String>, _>("password_hash").map_err(map_err)?.map(PasswordHash),
        must_change_password: r.try_get("must_change_password").map_err(map_err)?,
        recovery_email: opt_parse(r.try_get("recovery_email").map_err(map_err)?, |s| Email::parse(s, "recovery_email"), "users.recovery_email")?,
        global_admin: r.try_get("global_admin").map_err(map_err)?,
        failed_sign_ins: r.try_get("failed_sign_ins").map_err(map_err)?,
        locked_until: opt_ts(r.try_get("locked_until").map_err(map_err)?),
        last_sign_in: opt_ts(r.try_get("last_sign_in").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

const GROUP_COLS: &str = "g.id, g.tenant_id, g.name, g.description, g.created_at, g.updated_at";

fn group_from_row(r: &DbRow) -> Result<Group, StoreError> {
    Ok(Group {
        id: GroupId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        name: GroupName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("groups.name"))?,
        description: opt_parse(r.try_get("description").map_err(map_err)?, |s| Description::parse(s, "description"), "groups.description")?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn session_from_row(r: &DbRow) -> Result<Session, StoreError> {
    let hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
    Ok(Session {
        id: SessionId::from_uuid(r.try_get("id").map_err(map_err)?),
        token_hash: hash.try_into().map_err(|_| StoreError::Corrupt("sessions.token_hash".into()))?,
        user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
    })
}

fn audit_from_row(r: &DbRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(r.try_get("id").map_err(map_err)?),
        at: Timestamp::from_millis(r.try_get("at").map_err(map_err)?),
        actor_user_id: r.try_get::<Option<Uuid>, _>("actor_user_id").map_err(map_err)?.map(UserId::from_uuid),
        actor_tenant_id: r.try_get::<Option<Uuid>, _>("actor_tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
        action: r.try_get("action").map_err(map_err)?,
        target_type: r.try_get("target_type").map_err(map_err)?,
        target_id: r.try_get("target_id").map_err(map_err)?,
        tenant_id: r.try_get::<Option<Uuid>, _>("tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        details: r.try_get("details").map_err(map_err)?,
    })
}

fn rows<T>(rs: Vec<DbRow>, f: fn(&DbRow) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rs.iter().map(f).collect()
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

    async fn insert_tenant(&mut self, t: &Tenant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tenants (id, display_name, display_name_lower, domain, contact_email, directory_sync, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.id.as_uuid())
        .bind(t.display_name.as_str())
        .bind(t.display_name.as_str().to_lowercase())
        .bind(t.domain.as_str())
        .bind(t.contact_email.as_ref().map(|e| e.as_str()))
        .bind(t.directory_sync)
        .bind(t.created_at.as_millis())
        .bind(t.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_tenant(&mut self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(tenant_from_row).transpose()
    }

    async fn find_tenant_by_domain(&mut self, domain: &str) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE domain = $1");
        let r = sqlx::query(&sql).bind(domain).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(tenant_from_row).transpose()
    }

    async fn update_tenant(&mut self, t: &Tenant) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE tenants SET display_name = $2, display_name_lower = $3, contact_email = $4, directory_sync = $5, updated_at = $6 \
             WHERE id = $1",
        )
        .bind(t.id.as_uuid())
        .bind(t.display_name.as_str())
        .bind(t.display_name.as_str().to_lowercase())
        .bind(t.contact_email.as_ref().map(|e| e.as_str()))
        .bind(t.directory_sync)
        .bind(t.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_tenant(&mut self, id: TenantId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM tenants WHERE id = $1").bind(id.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_tenants(&mut self, q: &ListQuery) -> Result<Vec<Tenant>, StoreError> {
        let (after, limit) = page_params(q);
        let rs = match q.prefix_range() {
            None => {
                let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE domain > $1 ORDER BY domain LIMIT $2");
                sqlx::query(&sql).bind(after).bind(limit).fetch_all(self.c()).await
            }
            Some((lo, hi)) => {
                let sql = format!(
                    "SELECT {TENANT_COLS} FROM tenants WHERE domain > $1 \
                     AND ((domain >= $2 AND domain < $3) OR (display_name_lower >= $2 AND display_name_lower < $3)) \
                     ORDER BY domain LIMIT $4"
                );
                sqlx::query(&sql).bind(after).bind(lo).bind(hi).bind(limit).fetch_all(self.c()).await
            }
        }
        .map_err(map_err)?;
        rows(rs, tenant_from_row)
    }

    async fn insert_user(&mut self, u: &User) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_lower, display_name, display_name_lower, given_name, surname, mail, user_type, \
             enabled, password_hash, must_change_password, recovery_email, global_admin, failed_sign_ins, locked_until, last_sign_in, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(u.id.as_uuid())
        .bind(u.tenant_id.as_uuid())
        .bind(u.upn.as_str())
        .bind(u.upn.normalized())
        .bind(u.display_name.as_str())
        .bind(u.display_name.as_str().to_lowercase())
        .bind(u.given_name.as_ref().map(|v| v.as_str()))
        .bind(u.surname.as_ref().map(|v| v.as_str()))
        .bind(u.mail.as_ref().map(|v| v.as_str()))
        .bind(u.user_type.as_str())
        .bind(u.enabled)
        .bind(u.password_hash.as_ref().map(|h| h.0.as_str()))
        .bind(u.must_change_password)
        .bind(u.recovery_email.as_ref().map(|v| v.as_str()))
        .bind(u.global_admin)
        .bind(u.failed_sign_ins)
        .bind(u.locked_until.map(Timestamp::as_millis))
        .bind(u.last_sign_in.map(Timestamp::as_millis))
        .bind(u.created_at.as_millis())
        .bind(u.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_user(&mut self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.id = $2");
        let r = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(user_from_row).transpose()
    }

    async fn find_user_by_upn(&mut self, tenant: TenantId, upn_normalized: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.upn_lower = $2");
        let r = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(upn_normalized)
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(user_from_row).transpose()
    }

    async fn update_user(&mut self, u: &User) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE users SET upn = $3, upn_lower = $4, display_name = $5, display_name_lower = $6, given_name = $7, surname = $8, \
             mail = $9, user_type = $10, enabled = $11, password_hash = $12, must_change_password = $13, recovery_email = $14, \
             global_admin = $15, updated_at = $16 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(u.tenant_id.as_uuid())
        .bind(u.id.as_uuid())
        .bind(u.upn.as_str())
        .bind(u.upn.normalized())
        .bind(u.display_name.as_str())
        .bind(u.display_name.as_str().to_lowercase())
        .bind(u.given_name.as_ref().map(|v| v.as_str()))
        .bind(u.surname.as_ref().map(|v| v.as_str()))
        .bind(u.mail.as_ref().map(|v| v.as_str()))
        .bind(u.user_type.as_str())
        .bind(u.enabled)
        .bind(u.password_hash.as_ref().map(|h| h.0.as_str()))
        .bind(u.must_change_password)
        .bind(u.recovery_email.as_ref().map(|v| v.as_str()))
        .bind(u.global_admin)
        .bind(u.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_user(&mut self, tenant: TenantId, id: UserId) -> Result<bool, StoreError> {
        self.delete_memberships_of(id.as_uuid()).await?;
        let r = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_users(&mut self, tenant: TenantId, q: &ListQuery) -> Result<Vec<User>, StoreError> {
        let (after, limit) = page_params(q);
        let rs = match q.prefix_range() {
            None => {
                let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.upn_lower > $2 ORDER BY u.upn_lower LIMIT $3");
                sqlx::query(&sql).bind(tenant.as_uuid()).bind(after).bind(limit).fetch_all(self.c()).await
            }
            Some((lo, hi)) => {
                let sql = format!(
                    "SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND u.upn_lower > $2 \
                     AND ((u.upn_lower >= $3 AND u.upn_lower < $4) OR (u.display_name_lower >= $3 AND u.display_name_lower < $4)) \
                     ORDER BY u.upn_lower LIMIT $5"
                );
                sqlx::query(&sql)
                    .bind(tenant.as_uuid())
                    .bind(after)
                    .bind(lo)
                    .bind(hi)
                    .bind(limit)
                    .fetch_all(self.c())
                    .await
            }
        }
        .map_err(map_err)?;
        rows(rs, user_from_row)
    }

    async fn record_sign_in_failure(
        &mut self,
        tenant: TenantId,
        id: UserId,
        now: Timestamp,
        threshold: i32,
        lock_until: Timestamp,
    ) -> Result<SignInFailure, StoreError> {
        // One statement, so concurrent failures on several nodes are all counted.
        let r = sqlx::query(
            "UPDATE users SET \
               failed_sign_ins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $3 THEN 1 ELSE failed_sign_ins + 1 END, \
               locked_until = CASE \
                 WHEN locked_until IS NOT NULL AND locked_until <= $3 THEN (CASE WHEN 1 >= $4 THEN $5 ELSE NULL END) \
                 WHEN failed_sign_ins + 1 >= $4 THEN $5 \
                 ELSE locked_until END \
             WHERE tenant_id = $1 AND id = $2 \
             RETURNING failed_sign_ins, locked_until",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(now.as_millis())
        .bind(threshold)
        .bind(lock_until.as_millis())
        .fetch_one(self.c())
        .await
        .map_err(map_err)?;
        Ok(SignInFailure {
            failed_sign_ins: r.try_get("failed_sign_ins").map_err(map_err)?,
            locked_until: opt_ts(r.try_get("locked_until").map_err(map_err)?),
        })
    }

    async fn record_sign_in_success(&mut self, tenant: TenantId, id: UserId, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .bind(now.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn insert_group(&mut self, g: &Group) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO directory_groups (id, tenant_id, name, name_lower, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(g.id.as_uuid())
        .bind(g.tenant_id.as_uuid())
        .bind(g.name.as_str())
        .bind(g.name.normalized())
        .bind(g.description.as_ref().map(|d| d.as_str()))
        .bind(g.created_at.as_millis())
        .bind(g.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_group(&mut self, tenant: TenantId, id: GroupId) -> Result<Option<Group>, StoreError> {
        let sql = format!("SELECT {GROUP_COLS} FROM directory_groups g WHERE g.tenant_id = $1 AND g.id = $2");
        let r = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(group_from_row).transpose()
    }

    async fn update_group(&mut self, g: &Group) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE directory_groups SET name = $3, name_lower = $4, description = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(g.tenant_id.as_uuid())
        .bind(g.id.as_uuid())
        .bind(g.name.as_str())
        .bind(g.name.normalized())
        .bind(g.description.as_ref().map(|d| d.as_str()))
        .bind(g.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_group(&mut self, tenant: TenantId, id: GroupId) -> Result<bool, StoreError> {
        self.delete_memberships_of(id.as_uuid()).await?;
        let r = sqlx::query("DELETE FROM directory_groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_groups(&mut self, tenant: TenantId, q: &ListQuery) -> Result<Vec<Group>, StoreError> {
        let (after, limit) = page_params(q);
        let rs = match q.prefix_range() {
            None => {
                let sql = format!(
                    "SELECT {GROUP_COLS} FROM directory_groups g WHERE g.tenant_id = $1 AND g.name_lower > $2 ORDER BY g.name_lower LIMIT $3"
                );
                sqlx::query(&sql).bind(tenant.as_uuid()).bind(after).bind(limit).fetch_all(self.c()).await
            }
            Some((lo, hi)) => {
                let sql = format!(
                    "SELECT {GROUP_COLS} FROM directory_groups g WHERE g.tenant_id = $1 AND g.name_lower > $2 \
                     AND g.name_lower >= $3 AND g.name_lower < $4 ORDER BY g.name_lower LIMIT $5"
                );
                sqlx::query(&sql)
                    .bind(tenant.as_uuid())
                    .bind(after)
                    .bind(lo)
                    .bind(hi)
                    .bind(limit)
                    .fetch_all(self.c())
                    .await
            }
        }
        .map_err(map_err)?;
        rows(rs, group_from_row)
    }

    async fn add_group_member(&mut self, tenant: TenantId, group: GroupId, user: UserId, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO group_members (tenant_id, group_id, user_id, added_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant.as_uuid())
            .bind(group.as_uuid())
            .bind(user.as_uuid())
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn remove_group_member(&mut self, tenant: TenantId, group: GroupId, user: UserId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3")
            .bind(tenant.as_uuid())
            .bind(group.as_uuid())
            .bind(user.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_group_members(&mut self, tenant: TenantId, group: GroupId, q: &ListQuery) -> Result<Vec<User>, StoreError> {
        let (after, limit) = page_params(q);
        let sql = format!(
            "SELECT {USER_COLS} FROM group_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
             WHERE m.tenant_id = $1 AND m.group_id = $2 AND u.upn_lower > $3 ORDER BY u.upn_lower LIMIT $4"
        );
        let rs = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(group.as_uuid())
            .bind(after)
            .bind(limit)
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, user_from_row)
    }

    async fn list_user_groups(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<Group>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLS} FROM group_members m JOIN directory_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
             WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY g.name_lower"
        );
        let rs = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, group_from_row)
    }

    async fn insert_session(&mut self, s: &Session) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.id.as_uuid())
        .bind(&s.token_hash[..])
        .bind(s.user_id.as_uuid())
        .bind(s.tenant_id.as_uuid())
        .bind(s.created_at.as_millis())
        .bind(s.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_session_by_token_hash(&mut self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let r = sqlx::query("SELECT id, token_hash, user_id, tenant_id, created_at, expires_at FROM sessions WHERE token_hash = $1")
            .bind(&hash[..])
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(session_from_row).transpose()
    }

    async fn delete_session(&mut self, id: SessionId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.as_uuid()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_user_sessions(&mut self, user: UserId, keep: Option<SessionId>) -> Result<u64, StoreError> {
        // A nil UUID never names a session, so one query text covers "keep none".
        let keep = keep.map(|k| k.as_uuid()).unwrap_or(Uuid::nil());
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user.as_uuid())
            .bind(keep)
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn purge_expired_sessions(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn get_meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let r = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(self.c()).await.map_err(map_err)?;
        r.map(|r| r.try_get("value").map_err(map_err)).transpose()
    }

    async fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn insert_audit(&mut self, e: &AuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor_user_id, actor_tenant_id, action, target_type, target_id, tenant_id, details, account_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.as_uuid())
        .bind(e.at.as_millis())
        .bind(e.actor_user_id.map(|i| i.as_uuid()))
        .bind(e.actor_tenant_id.map(|i| i.as_uuid()))
        .bind(&e.action)
        .bind(&e.target_type)
        .bind(&e.target_id)
        .bind(e.tenant_id.map(|i| i.as_uuid()))
        .bind(&e.details)
        .bind(e.account_id.map(|i| i.as_uuid()))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_audit(&mut self, f: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        // Conditions are fixed SQL fragments; only their values are bound.
        let mut conds: Vec<String> = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if f.tenant_id.is_some() {
            conds.push(format!("tenant_id = ${}", next()));
        }
        if f.account_id.is_some() {
            conds.push(format!("account_id = ${}", next()));
        }
        if f.actor_user_id.is_some() {
            conds.push(format!("actor_user_id = ${}", next()));
        }
        if f.target_id.is_some() {
            conds.push(format!("target_id = ${}", next()));
        }
        if f.from.is_some() {
            conds.push(format!("at >= ${}", next()));
        }
        if f.to.is_some() {
            conds.push(format!("at < ${}", next()));
        }
        let limit_param = next();
        let where_ = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!(
            "SELECT id, at, actor_user_id, actor_tenant_id, action, target_type, target_id, tenant_id, details, account_id \
             FROM audit_events {where_} ORDER BY at DESC, id LIMIT ${limit_param}"
        );
        let mut q = sqlx::query(&sql);
        if let Some(v) = f.tenant_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = f.account_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = f.actor_user_id {
            q = q.bind(v.as_uuid());
        }
        if let Some(v) = &f.target_id {
            q = q.bind(v.clone());
        }
        if let Some(v) = f.from {
            q = q.bind(v.as_millis());
        }
        if let Some(v) = f.to {
            q = q.bind(v.as_millis());
        }
        let rs = q.bind(i64::from(f.limit)).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, audit_from_row)
    }

    async fn insert_application(&mut self, a: &Application) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applications (id, client_id, service_principal_id, tenant_id, display_name, display_name_lower, app_id_uri, \
             app_id_uri_lower, public_client, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.as_uuid())
        .bind(a.client_id.as_uuid())
        .bind(a.service_principal_id.as_uuid())
        .bind(a.tenant_id.as_uuid())
        .bind(a.display_name.as_str())
        .bind(a.display_name.as_str().to_lowercase())
        .bind(a.app_id_uri.as_ref().map(|u| u.as_str()))
        .bind(a.app_id_uri.as_ref().map(|u| u.normalized()))
        .bind(a.public_client)
        .bind(a.created_at.as_millis())
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        self.insert_reply_urls(a).await
    }

    async fn get_application(&mut self, tenant: TenantId, id: ApplicationId) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.id = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_client_id(&mut self, tenant: TenantId, client_id: ClientId) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.client_id = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(client_id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_app_id_uri(&mut self, tenant: TenantId, uri_normalized: &str) -> Result<Option<Application>, StoreError> {
        let sql = format!("SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 AND a.app_id_uri_lower = $2");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(uri_normalized).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn find_application_by_reply_url(&mut self, tenant: TenantId, url_normalized: &str) -> Result<Option<Application>, StoreError> {
        let sql = format!(
            "SELECT {APP_COLS} FROM applications a JOIN app_reply_urls r ON r.tenant_id = a.tenant_id AND r.application_id = a.id \
             WHERE a.tenant_id = $1 AND r.url_lower = $2"
        );
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(url_normalized).fetch_optional(self.c()).await.map_err(map_err)?;
        self.app_with_urls(r).await
    }

    async fn update_application(&mut self, a: &Application) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE applications SET display_name = $3, display_name_lower = $4, app_id_uri = $5, app_id_uri_lower = $6, \
             public_client = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(a.tenant_id.as_uuid())
        .bind(a.id.as_uuid())
        .bind(a.display_name.as_str())
        .bind(a.display_name.as_str().to_lowercase())
        .bind(a.app_id_uri.as_ref().map(|u| u.as_str()))
        .bind(a.app_id_uri.as_ref().map(|u| u.normalized()))
        .bind(a.public_client)
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM app_reply_urls WHERE tenant_id = $1 AND application_id = $2")
            .bind(a.tenant_id.as_uuid())
            .bind(a.id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        self.insert_reply_urls(a).await?;
        Ok(true)
    }

    async fn delete_application(&mut self, tenant: TenantId, id: ApplicationId) -> Result<bool, StoreError> {
        self.delete_memberships_of(id.as_uuid()).await?;
        let r = sqlx::query("DELETE FROM applications WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_applications(&mut self, tenant: TenantId, q: &ListQuery) -> Result<Vec<Application>, StoreError> {
        let (after, limit) = page_params(q);
        let (after_name, after_id) = match after.split_once('\u{1}') {
            Some((n, i)) => (n.to_owned(), Uuid::parse_str(i).unwrap_or(Uuid::nil())),
            None => (after, Uuid::nil()),
        };
        let (lo, hi) = q.prefix_range().unwrap_or((String::new(), "\u{10FFFF}".to_owned()));
        let sql = format!(
            "SELECT {APP_COLS} FROM applications a WHERE a.tenant_id = $1 \
             AND (a.display_name_lower > $2 OR (a.display_name_lower = $2 AND a.id > $3)) \
             AND a.display_name_lower >= $4 AND a.display_name_lower < $5 \
             ORDER BY a.display_name_lower, a.id LIMIT $6"
        );
        let rs = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(after_name)
            .bind(after_id)
            .bind(lo)
            .bind(hi)
            .bind(limit)
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        let mut apps = Vec::with_capacity(rs.len());
        for r in rs {
            if let Some(a) = self.app_with_urls(Some(r)).await? {
                apps.push(a);
            }
        }
        Ok(apps)
    }

    async fn insert_app_key(&mut self, k: &AppKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_keys (id, tenant_id, application_id, display_name, hint, secret_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(k.id.as_uuid())
        .bind(k.tenant_id.as_uuid())
        .bind(k.application_id.as_uuid())
        .bind(k.display_name.as_deref())
        .bind(&k.hint)
        .bind(&k.secret_hash[..])
        .bind(k.created_at.as_millis())
        .bind(k.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn list_app_keys(&mut self, tenant: TenantId, app: ApplicationId) -> Result<Vec<AppKey>, StoreError> {
        let rs = sqlx::query(
            "SELECT id, tenant_id, application_id, display_name, hint, secret_hash, created_at, expires_at FROM app_keys \
             WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(app.as_uuid())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rows(rs, key_from_row)
    }

    async fn delete_app_key(&mut self, tenant: TenantId, app: ApplicationId, key: KeyId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM app_keys WHERE tenant_id = $1 AND application_id = $2 AND id = $3")
            .bind(tenant.as_uuid())
            .bind(app.as_uuid())
            .bind(key.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO signing_keys (kid, private_key_encrypted, certificate_der, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&k.kid)
            .bind(&k.private_key_encrypted)
            .bind(&k.certificate_der)
            .bind(k.created_at.as_millis())
            .bind(k.retired_at.map(Timestamp::as_millis))
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn list_signing_keys(&mut self, retired_after: Timestamp) -> Result<Vec<SigningKey>, StoreError> {
        let rs = sqlx::query(
            "SELECT kid, private_key_encrypted, certificate_der, created_at, retired_at FROM signing_keys \
             WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid",
        )
        .bind(retired_after.as_millis())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rs.iter()
            .map(|r| {
                Ok(SigningKey {
                    kid: r.try_get("kid").map_err(map_err)?,
                    private_key_encrypted: r.try_get("private_key_encrypted").map_err(map_err)?,
                    certificate_der: r.try_get("certificate_der").map_err(map_err)?,
                    created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
                    retired_at: opt_ts(r.try_get("retired_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn retire_signing_keys(&mut self, keep: &str, at: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL")
            .bind(keep)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_auth_code(&mut self, c: &AuthCode) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, tenant_id, client_id, user_id, redirect_uri, scope, nonce, code_challenge, \
             code_challenge_method, created_at, expires_at, redeemed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&c.code_hash[..])
        .bind(c.tenant_id.as_uuid())
        .bind(c.client_id.as_uuid())
        .bind(c.user_id.as_uuid())
        .bind(&c.redirect_uri)
        .bind(&c.scope)
        .bind(c.nonce.as_deref())
        .bind(c.code_challenge.as_deref())
        .bind(c.code_challenge_method.as_deref())
        .bind(c.created_at.as_millis())
        .bind(c.expires_at.as_millis())
        .bind(c.redeemed_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn redeem_auth_code(&mut self, hash: &[u8; 32], now: Timestamp) -> Result<Option<(AuthCode, bool)>, StoreError> {
        // The UPDATE is the single point of truth: of two concurrent redemptions, one wins.
        let first = sqlx::query("UPDATE auth_codes SET redeemed_at = $2 WHERE code_hash = $1 AND redeemed_at IS NULL")
            .bind(&hash[..])
            .bind(now.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?
            .rows_affected()
            == 1;
        let r = sqlx::query(
            "SELECT code_hash, tenant_id, client_id, user_id, redirect_uri, scope, nonce, code_challenge, code_challenge_method, \
             created_at, expires_at, redeemed_at FROM auth_codes WHERE code_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let code_hash: Vec<u8> = r.try_get("code_hash").map_err(map_err)?;
        let code = AuthCode {
            code_hash: code_hash.try_into().map_err(|_| StoreError::Corrupt("auth_codes.code_hash".into()))?,
            tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
            redirect_uri: r.try_get("redirect_uri").map_err(map_err)?,
            scope: r.try_get("scope").map_err(map_err)?,
            nonce: r.try_get("nonce").map_err(map_err)?,
            code_challenge: r.try_get("code_challenge").map_err(map_err)?,
            code_challenge_method: r.try_get("code_challenge_method").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
            redeemed_at: opt_ts(r.try_get("redeemed_at").map_err(map_err)?),
        };
        Ok(Some((code, first)))
    }

    async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, tenant_id, client_id, user_id, scope, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&t.token_hash[..])
        .bind(t.family_id)
        .bind(t.tenant_id.as_uuid())
        .bind(t.client_id.as_uuid())
        .bind(t.user_id.as_uuid())
        .bind(&t.scope)
        .bind(t.created_at.as_millis())
        .bind(t.expires_at.as_millis())
        .bind(t.revoked_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_refresh_token(&mut self, hash: &[u8; 32]) -> Result<Option<RefreshToken>, StoreError> {
        let r = sqlx::query(
            "SELECT token_hash, family_id, tenant_id, client_id, user_id, scope, created_at, expires_at, revoked_at \
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let token_hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
        Ok(Some(RefreshToken {
            token_hash: token_hash.try_into().map_err(|_| StoreError::Corrupt("refresh_tokens.token_hash".into()))?,
            family_id: r.try_get("family_id").map_err(map_err)?,
            tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
            scope: r.try_get("scope").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
            revoked_at: opt_ts(r.try_get("revoked_at").map_err(map_err)?),
        }))
    }

    async fn revoke_refresh_token(&mut self, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(&hash[..])
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&mut self, family: Uuid, at: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
            .bind(family)
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn revoke_user_refresh_tokens(&mut self, user: UserId, at: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user.as_uuid())
            .bind(at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }
    async fn insert_account(&mut self, a: &Account) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (id, name, account_type, program, owner_tenant_id, owner_user_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id.as_uuid())
        .bind(a.name.as_str())
        .bind(a.account_type.as_str())
        .bind(program_str(a.program))
        .bind(a.owner_tenant_id.as_uuid())
        .bind(a.owner_user_id.as_uuid())
        .bind(a.created_at.as_millis())
        .bind(a.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(account_from_row).transpose()
    }

    async fn update_account(&mut self, a: &Account) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE accounts SET name = $2, account_type = $3, program = $4, updated_at = $5 WHERE id = $1")
            .bind(a.id.as_uuid())
            .bind(a.name.as_str())
            .bind(a.account_type.as_str())
            .bind(program_str(a.program))
            .bind(a.updated_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_accounts_for_user(&mut self, tenant: TenantId, user: UserId, groups: &[GroupId]) -> Result<Vec<Account>, StoreError> {
        // Owned accounts, and accounts where the user or one of the groups is a member of an
        // associated tenant. Groups are few per user, so they are checked one query each.
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts a WHERE a.owner_user_id = $1 OR EXISTS ( \
               SELECT 1 FROM account_members m WHERE m.account_id = a.id AND m.tenant_id = $2 AND m.principal_id = $1) \
             ORDER BY a.created_at, a.id"
        );
        let mut out = rows(
            sqlx::query(&sql).bind(user.as_uuid()).bind(tenant.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?,
            account_from_row,
        )?;
        for g in groups {
            let sql = format!(
                "SELECT {ACCOUNT_COLS} FROM accounts a JOIN account_members m ON m.account_id = a.id \
                 WHERE m.tenant_id = $1 AND m.principal_id = $2"
            );
            let more = rows(
                sqlx::query(&sql).bind(tenant.as_uuid()).bind(g.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?,
                account_from_row,
            )?;
            for a in more {
                if !out.iter().any(|o| o.id == a.id) {
                    out.push(a);
                }
            }
        }
        Ok(out)
    }

    async fn associate_tenant(&mut self, account: AccountId, tenant: TenantId, at: Timestamp, by: Option<UserId>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO account_tenants (account_id, tenant_id, associated_at, associated_by) VALUES ($1, $2, $3, $4)")
            .bind(account.as_uuid())
            .bind(tenant.as_uuid())
            .bind(at.as_millis())
            .bind(by.map(|u| u.as_uuid()))
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn list_account_tenants(&mut self, account: AccountId) -> Result<Vec<(Tenant, Timestamp)>, StoreError> {
        let sql = format!(
            "SELECT {}, at.associated_at FROM account_tenants at JOIN tenants t ON t.id = at.tenant_id \
             WHERE at.account_id = $1 ORDER BY at.associated_at, t.domain",
            TENANT_COLS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rs = sqlx::query(&sql).bind(account.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rs.iter()
            .map(|r| Ok((tenant_from_row(r)?, Timestamp::from_millis(r.try_get("associated_at").map_err(map_err)?))))
            .collect()
    }

    async fn account_tenant_ids(&mut self, account: AccountId) -> Result<Vec<TenantId>, StoreError> {
        let rs = sqlx::query("SELECT tenant_id FROM account_tenants WHERE account_id = $1")
            .bind(account.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rs.iter().map(|r| r.try_get("tenant_id").map(TenantId::from_uuid).map_err(map_err)).collect()
    }

    async fn user_group_ids(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<GroupId>, StoreError> {
        let rs = sqlx::query("SELECT group_id FROM group_members WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rs.iter().map(|r| r.try_get("group_id").map(GroupId::from_uuid).map_err(map_err)).collect()
    }

    async fn remove_account_tenant(&mut self, account: AccountId, tenant: TenantId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM account_tenants WHERE account_id = $1 AND tenant_id = $2")
            .bind(account.as_uuid())
            .bind(tenant.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn count_accounts_of_tenant(&mut self, tenant: TenantId) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM account_tenants WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_one(self.c())
            .await
            .map_err(map_err)?;
        r.try_get("n").map_err(map_err)
    }

    async fn insert_pending_association(&mut self, p: &PendingAssociation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_associations (token_hash, account_id, tenant_id, proved_by, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.token_hash[..])
        .bind(p.account_id.as_uuid())
        .bind(p.tenant_id.as_uuid())
        .bind(p.proved_by.as_uuid())
        .bind(p.created_by.as_uuid())
        .bind(p.created_at.as_millis())
        .bind(p.expires_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn take_pending_association(&mut self, hash: &[u8; 32]) -> Result<Option<PendingAssociation>, StoreError> {
        let r = sqlx::query(
            "DELETE FROM pending_associations WHERE token_hash = $1 \
             RETURNING token_hash, account_id, tenant_id, proved_by, created_by, created_at, expires_at",
        )
        .bind(&hash[..])
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        let Some(r) = r else { return Ok(None) };
        let h: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
        Ok(Some(PendingAssociation {
            token_hash: h.try_into().map_err(|_| StoreError::Corrupt("pending_associations.token_hash".into()))?,
            account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
            tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
            proved_by: UserId::from_uuid(r.try_get("proved_by").map_err(map_err)?),
            created_by: UserId::from_uuid(r.try_get("created_by").map_err(map_err)?),
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
        }))
    }

    async fn insert_member(&mut self, m: &Member) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO account_members (account_id, tenant_id, principal_type, principal_id, grant_json, added_by, added_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(m.account_id.as_uuid())
        .bind(m.tenant_id.as_uuid())
        .bind(m.principal.kind())
        .bind(m.principal.uuid())
        .bind(&m.grant_json)
        .bind(m.added_by.map(|u| u.as_uuid()))
        .bind(m.added_at.as_millis())
        .bind(m.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_member(&mut self, account: AccountId, principal: PrincipalRef) -> Result<Option<Member>, StoreError> {
        let r = sqlx::query(&format!("SELECT {MEMBER_COLS} FROM account_members WHERE account_id = $1 AND principal_type = $2 AND principal_id = $3"))
            .bind(account.as_uuid())
            .bind(principal.kind())
            .bind(principal.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(member_from_row).transpose()
    }

    async fn update_member_grant(&mut self, account: AccountId, principal: PrincipalRef, grant_json: &str, at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE account_members SET grant_json = $4, updated_at = $5 WHERE account_id = $1 AND principal_type = $2 AND principal_id = $3",
        )
        .bind(account.as_uuid())
        .bind(principal.kind())
        .bind(principal.uuid())
        .bind(grant_json)
        .bind(at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_member(&mut self, account: AccountId, principal: PrincipalRef) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM account_members WHERE account_id = $1 AND principal_type = $2 AND principal_id = $3")
            .bind(account.as_uuid())
            .bind(principal.kind())
            .bind(principal.uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_members(&mut self, account: AccountId) -> Result<Vec<Member>, StoreError> {
        let rs = sqlx::query(&format!("SELECT {MEMBER_COLS} FROM account_members WHERE account_id = $1 ORDER BY added_at, principal_id"))
            .bind(account.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, member_from_row)
    }

    async fn member_grants(&mut self, account: AccountId, user: PrincipalRef, groups: &[GroupId]) -> Result<Vec<Member>, StoreError> {
        // All of the account's grants for these principals in one query: the principal ids
        // are random UUIDs, so matching on the id alone cannot mix kinds up.
        let mut ids = vec![user.uuid()];
        ids.extend(groups.iter().map(|g| g.as_uuid()));
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT {MEMBER_COLS} FROM account_members WHERE account_id = $1 AND principal_id IN ({})", placeholders.join(", "));
        let mut q = sqlx::query(&sql).bind(account.as_uuid());
        for id in ids {
            q = q.bind(id);
        }
        let rs = q.fetch_all(self.c()).await.map_err(map_err)?;
        let rows = rows(rs, member_from_row)?;
        // Only the user's own row and group rows count (a row of another kind with a
        // colliding id would be a corrupt database; filter it out rather than trust it).
        Ok(rows.into_iter().filter(|m| m.principal == user || matches!(m.principal, PrincipalRef::Group(g) if groups.contains(&g))).collect())
    }

    async fn is_member_anywhere(&mut self, principal: PrincipalRef) -> Result<bool, StoreError> {
        let r = sqlx::query("SELECT 1 AS one FROM account_members WHERE principal_type = $1 AND principal_id = $2 LIMIT 1")
            .bind(principal.kind())
            .bind(principal.uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.is_some())
    }

    async fn insert_product(&mut self, p: &Product) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO products (id, account_id, name, name_lower, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(p.id.as_uuid())
            .bind(p.account_id.as_uuid())
            .bind(p.name.as_str())
            .bind(p.name.as_str().to_lowercase())
            .bind(p.created_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn list_products(&mut self, account: AccountId) -> Result<Vec<Product>, StoreError> {
        let rs = sqlx::query("SELECT id, account_id, name, created_at FROM products WHERE account_id = $1 ORDER BY name_lower")
            .bind(account.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rs.iter()
            .map(|r| {
                Ok(Product {
                    id: ProductId::from_uuid(r.try_get("id").map_err(map_err)?),
                    account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
                    name: DisplayName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("products.name"))?,
                    created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn delete_product(&mut self, account: AccountId, id: ProductId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM products WHERE account_id = $1 AND id = $2")
            .bind(account.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_activity(&mut self, batch: &[Activity]) -> Result<(), StoreError> {
        for a in batch {
            sqlx::query("INSERT INTO activity (account_id, principal_type, principal_id, at, method, route) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(a.account_id.as_uuid())
                .bind(a.principal.kind())
                .bind(a.principal.uuid())
                .bind(a.at.as_millis())
                .bind(&a.method)
                .bind(&a.route)
                .execute(self.c())
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn list_activity(&mut self, account: AccountId, principal: PrincipalRef, since: Timestamp, limit: u32) -> Result<Vec<Activity>, StoreError> {
        let rs = sqlx::query(
            "SELECT account_id, principal_type, principal_id, at, method, route FROM activity \
             WHERE account_id = $1 AND principal_id = $2 AND at >= $3 ORDER BY at DESC LIMIT $4",
        )
        .bind(account.as_uuid())
        .bind(principal.uuid())
        .bind(since.as_millis())
        .bind(i64::from(limit))
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rows(rs, activity_from_row)
    }

    async fn last_activity(&mut self, account: AccountId) -> Result<Vec<(PrincipalRef, Timestamp)>, StoreError> {
        let rs = sqlx::query(
            "SELECT principal_type, principal_id, MAX(at) AS last FROM activity WHERE account_id = $1 GROUP BY principal_type, principal_id",
        )
        .bind(account.as_uuid())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rs.iter()
            .map(|r| {
                let kind: String = r.try_get("principal_type").map_err(map_err)?;
                let p = PrincipalRef::from_parts(&kind, r.try_get("principal_id").map_err(map_err)?)
                    .ok_or_else(|| StoreError::Corrupt(format!("activity.principal_type: {kind}")))?;
                Ok((p, Timestamp::from_millis(r.try_get("last").map_err(map_err)?)))
            })
            .collect()
    }

    async fn purge_activity(&mut self, before: Timestamp) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM activity WHERE at < $1").bind(before.as_millis()).execute(self.c()).await.map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_invitation(&mut self, i: &Invitation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, account_id, user_id, email, email_lower, token_hash, status, redirect_url, \
             invited_by, resend_count, created_at, updated_at, expires_at, accepted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(i.id.as_uuid())
        .bind(i.tenant_id.as_uuid())
        .bind(i.account_id.map(|a| a.as_uuid()))
        .bind(i.user_id.as_uuid())
        .bind(i.email.as_str())
        .bind(i.email.normalized())
        .bind(&i.token_hash[..])
        .bind(i.status.as_str())
        .bind(i.redirect_url.as_deref())
        .bind(i.invited_by.map(|u| u.as_uuid()))
        .bind(i.resend_count)
        .bind(i.created_at.as_millis())
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.map(Timestamp::as_millis))
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }

    async fn find_invitation_by_token_hash(&mut self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
        let r = sqlx::query(&sql).bind(&hash[..]).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }

    async fn update_invitation(&mut self, i: &Invitation) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE invitations SET token_hash = $2, status = $3, resend_count = $4, updated_at = $5, expires_at = $6, accepted_at = $7 \
             WHERE id = $1",
        )
        .bind(i.id.as_uuid())
        .bind(&i.token_hash[..])
        .bind(i.status.as_str())
        .bind(i.resend_count)
        .bind(i.updated_at.as_millis())
        .bind(i.expires_at.map(Timestamp::as_millis))
        .bind(i.accepted_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn accept_invitation(&mut self, id: InvitationId, hash: &[u8; 32], at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE invitations SET status = 'accepted', accepted_at = $3, updated_at = $3 \
             WHERE id = $1 AND token_hash = $2 AND status = 'pending'",
        )
        .bind(id.as_uuid())
        .bind(&hash[..])
        .bind(at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_invitations(&mut self, account: AccountId) -> Result<Vec<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE account_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(account.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, invitation_from_row)
    }

    async fn pending_invitation_of_user(&mut self, user: UserId) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE user_id = $1 AND status = 'pending'");
        let r = sqlx::query(&sql).bind(user.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(invitation_from_row).transpose()
    }

    async fn find_user_by_mail(&mut self, tenant: TenantId, mail_lower: &str) -> Result<Option<User>, StoreError> {
        // Rare (invitations only), so a scan of the tenant's users is fine; LOWER() agrees on
        // both backends for ASCII, and the caller compares the parsed address again.
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND LOWER(u.mail) = $2 LIMIT 1");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(mail_lower).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(user_from_row).transpose()
    }

    async fn insert_mail(&mut self, m: &Mail) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, locked_until, \
             last_error, created_at, sent_at, invitation_id, account_id, tenant_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(m.id.as_uuid())
        .bind(m.to.as_str())
        .bind(&m.subject)
        .bind(&m.body_text)
        .bind(&m.body_html)
        .bind(m.status.as_str())
        .bind(m.attempts)
        .bind(m.next_attempt_at.as_millis())
        .bind(m.locked_until.map(Timestamp::as_millis))
        .bind(m.last_error.as_deref())
        .bind(m.created_at.as_millis())
        .bind(m.sent_at.map(Timestamp::as_millis))
        .bind(m.invitation_id.map(|i| i.as_uuid()))
        .bind(m.account_id.map(|a| a.as_uuid()))
        .bind(m.tenant_id.map(|t| t.as_uuid()))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_mail(&mut self, id: MailId) -> Result<Option<Mail>, StoreError> {
        let sql = format!("SELECT {MAIL_COLS} FROM mail_outbox WHERE id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(mail_from_row).transpose()
    }

    async fn list_mail(&mut self, invitation: Option<InvitationId>, status: Option<MailStatus>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let sql = format!(
            "SELECT {MAIL_COLS} FROM mail_outbox WHERE ($1 IS NULL OR invitation_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY created_at DESC, id LIMIT $3"
        );
        let rs = sqlx::query(&sql)
            .bind(invitation.map(|i| i.as_uuid()))
            .bind(status.map(MailStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn list_account_mail(&mut self, account: AccountId) -> Result<Vec<Mail>, StoreError> {
        let sql = format!("SELECT {MAIL_COLS} FROM mail_outbox WHERE account_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(account.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn claim_mail(&mut self, now: Timestamp, lease_until: Timestamp, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let sql = format!(
            "UPDATE mail_outbox SET status = 'sending', locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox \
                 WHERE (status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND locked_until <= $1) \
                 ORDER BY next_attempt_at LIMIT $3{CLAIM_LOCK}) \
             AND ((status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND locked_until <= $1)) \
             RETURNING {MAIL_COLS}"
        );
        let rs = sqlx::query(&sql)
            .bind(now.as_millis())
            .bind(lease_until.as_millis())
            .bind(i64::from(limit))
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rows(rs, mail_from_row)
    }

    async fn finish_mail(&mut self, id: MailId, status: MailStatus, at: Timestamp, next_attempt_at: Timestamp, error: Option<&str>) -> Result<bool, StoreError> {
        let done = matches!(status, MailStatus::Sent | MailStatus::Dead);
        let r = sqlx::query(
            "UPDATE mail_outbox SET status = $2, locked_until = NULL, next_attempt_at = $3, last_error = $4, sent_at = $5, \
             body_text = CASE WHEN $6 THEN '' ELSE body_text END, body_html = CASE WHEN $6 THEN '' ELSE body_html END \
             WHERE id = $1 AND status = 'sending'",
        )
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(next_attempt_at.as_millis())
        .bind(error)
        .bind((status == MailStatus::Sent).then_some(at.as_millis()))
        .bind(done)
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
    async fn insert_subscription(&mut self, s: &Subscription) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO subscriptions (id, name, owner_tenant_id, owner_user_id, state, directory_tenant_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id.as_uuid())
        .bind(s.name.as_str())
        .bind(s.owner_tenant_id.as_uuid())
        .bind(s.owner_user_id.as_uuid())
        .bind(s.state.as_str())
        .bind(s.directory_tenant_id.as_uuid())
        .bind(s.created_at.as_millis())
        .bind(s.updated_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn get_subscription(&mut self, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        let sql = format!("SELECT {SUBSCRIPTION_COLS} FROM subscriptions s WHERE s.id = $1");
        let r = sqlx::query(&sql).bind(id.as_uuid()).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(subscription_from_row).transpose()
    }

    async fn update_subscription(&mut self, s: &Subscription) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE subscriptions SET name = $2, state = $3, directory_tenant_id = $4, updated_at = $5 WHERE id = $1")
            .bind(s.id.as_uuid())
            .bind(s.name.as_str())
            .bind(s.state.as_str())
            .bind(s.directory_tenant_id.as_uuid())
            .bind(s.updated_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_subscriptions_for_user(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<Subscription>, StoreError> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLS} FROM subscriptions s \
             WHERE (s.owner_tenant_id = $1 AND s.owner_user_id = $2) OR EXISTS ( \
               SELECT 1 FROM subscription_coadmins c WHERE c.subscription_id = s.id AND c.tenant_id = $1 AND c.user_id = $2) \
             ORDER BY s.created_at, s.id"
        );
        rows(sqlx::query(&sql).bind(tenant.as_uuid()).bind(user.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?, subscription_from_row)
    }

    async fn insert_directory_request(&mut self, r: &DirectoryRequest) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO subscription_directory_requests \
             (id, subscription_id, tenant_id, code_hash, requested_by, created_at, expires_at, consented_by, consented_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.id.as_uuid())
        .bind(r.subscription_id.as_uuid())
        .bind(r.tenant_id.as_uuid())
        .bind(&r.code_hash[..])
        .bind(r.requested_by.as_uuid())
        .bind(r.created_at.as_millis())
        .bind(r.expires_at.as_millis())
        .bind(r.consented_by.map(|u| u.as_uuid()))
        .bind(r.consented_at.map(Timestamp::as_millis))
        .execute(self.c())
        .await
        .map_err(map_err)
        .map(|_| ())
    }

    async fn find_directory_request_by_code(&mut self, code_hash: &[u8; 32]) -> Result<Option<DirectoryRequest>, StoreError> {
        let sql = format!("SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests WHERE code_hash = $1");
        let r = sqlx::query(&sql).bind(&code_hash[..]).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(directory_request_from_row).transpose()
    }

    async fn consent_directory_request(&mut self, id: DirectoryRequestId, by: UserId, at: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE subscription_directory_requests SET consented_by = $2, consented_at = $3 \
             WHERE id = $1 AND consented_at IS NULL AND expires_at > $3",
        )
        .bind(id.as_uuid())
        .bind(by.as_uuid())
        .bind(at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn find_consented_directory_request(&mut self, subscription: SubscriptionId, tenant: TenantId, now: Timestamp) -> Result<Option<DirectoryRequest>, StoreError> {
        let sql = format!(
            "SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests \
             WHERE subscription_id = $1 AND tenant_id = $2 AND consented_at IS NOT NULL AND expires_at > $3 \
             ORDER BY consented_at DESC, id LIMIT 1"
        );
        let r = sqlx::query(&sql)
            .bind(subscription.as_uuid())
            .bind(tenant.as_uuid())
            .bind(now.as_millis())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        r.as_ref().map(directory_request_from_row).transpose()
    }

    async fn list_directory_requests(&mut self, subscription: SubscriptionId) -> Result<Vec<DirectoryRequest>, StoreError> {
        let sql = format!("SELECT {DIRECTORY_REQUEST_COLS} FROM subscription_directory_requests WHERE subscription_id = $1 ORDER BY created_at DESC, id");
        let rs = sqlx::query(&sql).bind(subscription.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rows(rs, directory_request_from_row)
    }

    async fn delete_directory_requests(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_directory_requests WHERE subscription_id = $1")
            .bind(subscription.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_coadmin(&mut self, c: &Coadmin) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO subscription_coadmins (subscription_id, tenant_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(c.subscription_id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.user_id.as_uuid())
            .bind(c.added_by.as_uuid())
            .bind(c.added_at.as_millis())
            .execute(self.c())
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn delete_coadmin(&mut self, subscription: SubscriptionId, user: UserId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_coadmins WHERE subscription_id = $1 AND user_id = $2")
            .bind(subscription.as_uuid())
            .bind(user.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_coadmins(&mut self, subscription: SubscriptionId) -> Result<Vec<(Coadmin, User)>, StoreError> {
        let sql = format!(
            "SELECT c.subscription_id, c.added_by, c.added_at, {USER_COLS} FROM subscription_coadmins c \
             JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id \
             WHERE c.subscription_id = $1 ORDER BY u.upn_lower"
        );
        let rs = sqlx::query(&sql).bind(subscription.as_uuid()).fetch_all(self.c()).await.map_err(map_err)?;
        rs.iter()
            .map(|r| {
                let u = user_from_row(r)?;
                let c = Coadmin {
                    subscription_id: SubscriptionId::from_uuid(r.try_get("subscription_id").map_err(map_err)?),
                    tenant_id: u.tenant_id,
                    user_id: u.id,
                    added_by: UserId::from_uuid(r.try_get("added_by").map_err(map_err)?),
                    added_at: Timestamp::from_millis(r.try_get("added_at").map_err(map_err)?),
                };
                Ok((c, u))
            })
            .collect()
    }

    async fn delete_coadmins(&mut self, subscription: SubscriptionId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM subscription_coadmins WHERE subscription_id = $1")
            .bind(subscription.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn find_users_by_mail(&mut self, tenant: TenantId, email_lower: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND LOWER(u.mail) = $2 ORDER BY u.upn_lower LIMIT $3");
        rows(
            sqlx::query(&sql).bind(tenant.as_uuid()).bind(email_lower).bind(i64::from(limit)).fetch_all(self.c()).await.map_err(map_err)?,
            user_from_row,
        )
    }
}

const INVITATION_COLS: &str = "id, tenant_id, account_id, user_id, email, token_hash, status, redirect_url, invited_by, resend_count, \
    created_at, updated_at, expires_at, accepted_at";

fn invitation_from_row(r: &DbRow) -> Result<Invitation, StoreError> {
    let hash: Vec<u8> = r.try_get("token_hash").map_err(map_err)?;
    let status: String = r.try_get("status").map_err(map_err)?;
    Ok(Invitation {
        id: InvitationId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        user_id: UserId::from_uuid(r.try_get("user_id").map_err(map_err)?),
        email: Email::parse(&r.try_get::<String, _>("email").map_err(map_err)?, "email").map_err(corrupt("invitations.email"))?,
        token_hash: hash.try_into().map_err(|_| StoreError::Corrupt("invitations.token_hash".into()))?,
        status: InvitationStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("invitations.status: {status}")))?,
        redirect_url: r.try_get("redirect_url").map_err(map_err)?,
        invited_by: r.try_get::<Option<Uuid>, _>("invited_by").map_err(map_err)?.map(UserId::from_uuid),
        resend_count: r.try_get("resend_count").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        expires_at: opt_ts(r.try_get("expires_at").map_err(map_err)?),
        accepted_at: opt_ts(r.try_get("accepted_at").map_err(map_err)?),
    })
}

const MAIL_COLS: &str = "id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, locked_until, last_error, \
    created_at, sent_at, invitation_id, account_id, tenant_id";

fn mail_from_row(r: &DbRow) -> Result<Mail, StoreError> {
    let status: String = r.try_get("status").map_err(map_err)?;
    Ok(Mail {
        id: MailId::from_uuid(r.try_get("id").map_err(map_err)?),
        to: Email::parse(&r.try_get::<String, _>("to_address").map_err(map_err)?, "to").map_err(corrupt("mail_outbox.to_address"))?,
        subject: r.try_get("subject").map_err(map_err)?,
        body_text: r.try_get("body_text").map_err(map_err)?,
        body_html: r.try_get("body_html").map_err(map_err)?,
        status: MailStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("mail_outbox.status: {status}")))?,
        attempts: r.try_get("attempts").map_err(map_err)?,
        next_attempt_at: Timestamp::from_millis(r.try_get("next_attempt_at").map_err(map_err)?),
        locked_until: opt_ts(r.try_get("locked_until").map_err(map_err)?),
        last_error: r.try_get("last_error").map_err(map_err)?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        sent_at: opt_ts(r.try_get("sent_at").map_err(map_err)?),
        invitation_id: r.try_get::<Option<Uuid>, _>("invitation_id").map_err(map_err)?.map(InvitationId::from_uuid),
        account_id: r.try_get::<Option<Uuid>, _>("account_id").map_err(map_err)?.map(AccountId::from_uuid),
        tenant_id: r.try_get::<Option<Uuid>, _>("tenant_id").map_err(map_err)?.map(TenantId::from_uuid),
    })
}


const SUBSCRIPTION_COLS: &str = "s.id, s.name, s.owner_tenant_id, s.owner_user_id, s.state, s.directory_tenant_id, s.created_at, s.updated_at";
const DIRECTORY_REQUEST_COLS: &str = "id, subscription_id, tenant_id, code_hash, requested_by, created_at, expires_at, consented_by, consented_at";

fn subscription_from_row(r: &DbRow) -> Result<Subscription, StoreError> {
    let state: String = r.try_get("state").map_err(map_err)?;
    Ok(Subscription {
        id: SubscriptionId::from_uuid(r.try_get("id").map_err(map_err)?),
        name: DisplayName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("subscriptions.name"))?,
        owner_tenant_id: TenantId::from_uuid(r.try_get("owner_tenant_id").map_err(map_err)?),
        owner_user_id: UserId::from_uuid(r.try_get("owner_user_id").map_err(map_err)?),
        state: SubscriptionState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("subscriptions.state: {state}")))?,
        directory_tenant_id: TenantId::from_uuid(r.try_get("directory_tenant_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn directory_request_from_row(r: &DbRow) -> Result<DirectoryRequest, StoreError> {
    let h: Vec<u8> = r.try_get("code_hash").map_err(map_err)?;
    Ok(DirectoryRequest {
        id: DirectoryRequestId::from_uuid(r.try_get("id").map_err(map_err)?),
        subscription_id: SubscriptionId::from_uuid(r.try_get("subscription_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        code_hash: h.try_into().map_err(|_| StoreError::Corrupt("subscription_directory_requests.code_hash".into()))?,
        requested_by: UserId::from_uuid(r.try_get("requested_by").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
        consented_by: r.try_get::<Option<Uuid>, _>("consented_by").map_err(map_err)?.map(UserId::from_uuid),
        consented_at: opt_ts(r.try_get("consented_at").map_err(map_err)?),
    })
}

const ACCOUNT_COLS: &str = "a.id, a.name, a.account_type, a.program, a.owner_tenant_id, a.owner_user_id, a.created_at, a.updated_at";
const MEMBER_COLS: &str = "account_id, tenant_id, principal_type, principal_id, grant_json, added_by, added_at, updated_at";

fn program_str(p: atrium_core::access::Program) -> &'static str {
    match p {
        atrium_core::access::Program::Developer => "developer",
        atrium_core::access::Program::Hardware => "hardware",
    }
}

fn account_from_row(r: &DbRow) -> Result<Account, StoreError> {
    let t: String = r.try_get("account_type").map_err(map_err)?;
    let p: String = r.try_get("program").map_err(map_err)?;
    Ok(Account {
        id: AccountId::from_uuid(r.try_get("id").map_err(map_err)?),
        name: DisplayName::parse(&r.try_get::<String, _>("name").map_err(map_err)?, "name").map_err(corrupt("accounts.name"))?,
        account_type: AccountType::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("accounts.account_type: {t}")))?,
        program: match p.as_str() {
            "developer" => atrium_core::access::Program::Developer,
            "hardware" => atrium_core::access::Program::Hardware,
            _ => return Err(StoreError::Corrupt(format!("accounts.program: {p}"))),
        },
        owner_tenant_id: TenantId::from_uuid(r.try_get("owner_tenant_id").map_err(map_err)?),
        owner_user_id: UserId::from_uuid(r.try_get("owner_user_id").map_err(map_err)?),
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn member_from_row(r: &DbRow) -> Result<Member, StoreError> {
    let kind: String = r.try_get("principal_type").map_err(map_err)?;
    Ok(Member {
        account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        principal: PrincipalRef::from_parts(&kind, r.try_get("principal_id").map_err(map_err)?)
            .ok_or_else(|| StoreError::Corrupt(format!("account_members.principal_type: {kind}")))?,
        grant_json: r.try_get("grant_json").map_err(map_err)?,
        added_by: r.try_get::<Option<Uuid>, _>("added_by").map_err(map_err)?.map(UserId::from_uuid),
        added_at: Timestamp::from_millis(r.try_get("added_at").map_err(map_err)?),
        updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
    })
}

fn activity_from_row(r: &DbRow) -> Result<Activity, StoreError> {
    let kind: String = r.try_get("principal_type").map_err(map_err)?;
    Ok(Activity {
        account_id: AccountId::from_uuid(r.try_get("account_id").map_err(map_err)?),
        principal: PrincipalRef::from_parts(&kind, r.try_get("principal_id").map_err(map_err)?)
            .ok_or_else(|| StoreError::Corrupt(format!("activity.principal_type: {kind}")))?,
        at: Timestamp::from_millis(r.try_get("at").map_err(map_err)?),
        method: r.try_get("method").map_err(map_err)?,
        route: r.try_get("route").map_err(map_err)?,
    })
}


const APP_COLS: &str = "a.id, a.client_id, a.service_principal_id, a.tenant_id, a.display_name, a.app_id_uri, a.public_client, a.created_at, a.updated_at";

fn key_from_row(r: &DbRow) -> Result<AppKey, StoreError> {
    let hash: Vec<u8> = r.try_get("secret_hash").map_err(map_err)?;
    Ok(AppKey {
        id: KeyId::from_uuid(r.try_get("id").map_err(map_err)?),
        tenant_id: TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?),
        application_id: ApplicationId::from_uuid(r.try_get("application_id").map_err(map_err)?),
        display_name: r.try_get("display_name").map_err(map_err)?,
        hint: r.try_get("hint").map_err(map_err)?,
        secret_hash: hash.try_into().map_err(|_| StoreError::Corrupt("app_keys.secret_hash".into()))?,
        created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
        expires_at: Timestamp::from_millis(r.try_get("expires_at").map_err(map_err)?),
    })
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

    async fn insert_reply_urls(&mut self, a: &Application) -> Result<(), StoreError> {
        for (i, url) in a.reply_urls.iter().enumerate() {
            sqlx::query("INSERT INTO app_reply_urls (tenant_id, application_id, position, url, url_lower) VALUES ($1, $2, $3, $4, $5)")
                .bind(a.tenant_id.as_uuid())
                .bind(a.id.as_uuid())
                .bind(i as i32)
                .bind(url.as_str())
                .bind(url.normalized())
                .execute(self.c())
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// Completes an application row with its Reply URLs.
    async fn app_with_urls(&mut self, r: Option<DbRow>) -> Result<Option<Application>, StoreError> {
        let Some(r) = r else { return Ok(None) };
        let id = ApplicationId::from_uuid(r.try_get("id").map_err(map_err)?);
        let tenant_id = TenantId::from_uuid(r.try_get("tenant_id").map_err(map_err)?);
        let urls = sqlx::query("SELECT url FROM app_reply_urls WHERE tenant_id = $1 AND application_id = $2 ORDER BY position")
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        let reply_urls = urls
            .iter()
            .map(|u| {
                let s: String = u.try_get("url").map_err(map_err)?;
                ReplyUrl::parse(&s, "url").map_err(corrupt("app_reply_urls.url"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Application {
            id,
            client_id: ClientId::from_uuid(r.try_get("client_id").map_err(map_err)?),
            service_principal_id: ServicePrincipalId::from_uuid(r.try_get("service_principal_id").map_err(map_err)?),
            tenant_id,
            display_name: DisplayName::parse(&r.try_get::<String, _>("display_name").map_err(map_err)?, "display_name")
                .map_err(corrupt("applications.display_name"))?,
            reply_urls,
            app_id_uri: opt_parse(r.try_get("app_id_uri").map_err(map_err)?, |s| AppIdUri::parse(s, "app_id_uri"), "applications.app_id_uri")?,
            public_client: r.try_get("public_client").map_err(map_err)?,
            created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
            updated_at: Timestamp::from_millis(r.try_get("updated_at").map_err(map_err)?),
        }))
    }
}

