// Tenants, users and groups. Included once per backend by `base.rs` (see there).

use atrium_core::query::{DirectoryQuery, ObjectKind, fold};

/// A lowered copy of an optional attribute, for its `_lower` column.
fn folded(v: Option<&str>) -> Option<String> {
    v.map(fold)
}

#[async_trait]
impl DirectoryTx for DbTx {
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
        let q = sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_lower, display_name, display_name_lower, given_name, surname, mail, user_type, \
             enabled, password_hash, must_change_password, recovery_email, global_admin, failed_sign_ins, locked_until, last_sign_in, \
             created_at, updated_at, given_name_lower, surname_lower, mail_lower, \
             user_name, user_name_lower, external_id, title, title_lower, department, employee_number, manager_id, formatted_name, emails, scim_active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
             $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34)",
        )
        .bind(u.id.as_uuid())
        .bind(u.tenant_id.as_uuid())
        .bind(u.upn.as_str())
        .bind(u.upn.normalized())
        .bind(u.display_name.as_str())
        .bind(fold(u.display_name.as_str()))
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
        .bind(folded(u.given_name.as_ref().map(|v| v.as_str())))
        .bind(folded(u.surname.as_ref().map(|v| v.as_str())))
        .bind(folded(u.mail.as_ref().map(|v| v.as_str())));
        bind_provisioning(q, u)?.execute(self.c()).await.map_err(map_err).map(|_| ())
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

    async fn find_user_by_mail(&mut self, tenant: TenantId, mail_lower: &str) -> Result<Option<User>, StoreError> {
        // Rare (invitations only), so a scan of the tenant's users is fine; LOWER() agrees on
        // both backends for ASCII, and the caller compares the parsed address again.
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND LOWER(u.mail) = $2 LIMIT 1");
        let r = sqlx::query(&sql).bind(tenant.as_uuid()).bind(mail_lower).fetch_optional(self.c()).await.map_err(map_err)?;
        r.as_ref().map(user_from_row).transpose()
    }

    async fn find_users_by_mail(&mut self, tenant: TenantId, email_lower: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.tenant_id = $1 AND LOWER(u.mail) = $2 ORDER BY u.upn_lower LIMIT $3");
        rows(
            sqlx::query(&sql).bind(tenant.as_uuid()).bind(email_lower).bind(i64::from(limit)).fetch_all(self.c()).await.map_err(map_err)?,
            user_from_row,
        )
    }

    async fn update_user(&mut self, u: &User) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "UPDATE users SET upn = $3, upn_lower = $4, display_name = $5, display_name_lower = $6, given_name = $7, surname = $8, \
             mail = $9, user_type = $10, enabled = $11, password_hash = $12, must_change_password = $13, recovery_email = $14, \
             global_admin = $15, updated_at = $16, given_name_lower = $17, surname_lower = $18, mail_lower = $19, \
             user_name = $20, user_name_lower = $21, external_id = $22, title = $23, title_lower = $24, department = $25, \
             employee_number = $26, manager_id = $27, formatted_name = $28, emails = $29, scim_active = $30 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(u.tenant_id.as_uuid())
        .bind(u.id.as_uuid())
        .bind(u.upn.as_str())
        .bind(u.upn.normalized())
        .bind(u.display_name.as_str())
        .bind(fold(u.display_name.as_str()))
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
        .bind(folded(u.given_name.as_ref().map(|v| v.as_str())))
        .bind(folded(u.surname.as_ref().map(|v| v.as_str())))
        .bind(folded(u.mail.as_ref().map(|v| v.as_str())));
        let r = bind_provisioning(q, u)?.execute(self.c()).await.map_err(map_err)?;
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

    async fn query_users(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<Vec<User>, StoreError> {
        let c = super::query::compile(q, &[ObjectKind::User], tenant)?;
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE {}", c.clause);
        rows(super::query::bind(sqlx::query(&sql), c.binds).fetch_all(self.c()).await.map_err(map_err)?, user_from_row)
    }

    async fn reserve_sign_in(
        &mut self,
        tenant: TenantId,
        id: UserId,
        now: Timestamp,
        threshold: i32,
        lease_until: Timestamp,
    ) -> Result<SignInReservation, StoreError> {
        // One statement that checks and reserves, so concurrent checks on any number of nodes
        // cannot all pass a check made before any of them reserved (PostgreSQL re-evaluates the
        // WHERE on the updated row; SQLite has one writer). An expired lock counts as no
        // failures, an expired lease as nothing in flight. SET expressions read the old row.
        let granted = sqlx::query(
            "UPDATE users SET \
               failed_sign_ins = CASE WHEN locked_until IS NOT NULL THEN 0 ELSE failed_sign_ins END, \
               locked_until = NULL, \
               sign_ins_in_flight = CASE WHEN sign_ins_in_flight_until IS NULL OR sign_ins_in_flight_until <= $3 THEN 1 ELSE sign_ins_in_flight + 1 END, \
               sign_ins_in_flight_until = $5 \
             WHERE tenant_id = $1 AND id = $2 AND (locked_until IS NULL OR locked_until <= $3) \
               AND (CASE WHEN locked_until IS NOT NULL THEN 0 ELSE failed_sign_ins END) \
                 + (CASE WHEN sign_ins_in_flight_until IS NULL OR sign_ins_in_flight_until <= $3 THEN 0 ELSE sign_ins_in_flight END) < $4 \
             RETURNING failed_sign_ins",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(now.as_millis())
        .bind(threshold)
        .bind(lease_until.as_millis())
        .fetch_optional(self.c())
        .await
        .map_err(map_err)?;
        if granted.is_some() {
            return Ok(SignInReservation::Granted);
        }
        // Refused: only whether it is locked matters (a stale answer just means one more try).
        let locked: Option<Option<i64>> = sqlx::query_scalar("SELECT locked_until FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.c())
            .await
            .map_err(map_err)?;
        Ok(match locked {
            Some(Some(until)) if until > now.as_millis() => SignInReservation::Locked,
            Some(_) => SignInReservation::Busy,
            None => SignInReservation::Locked,
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
            "INSERT INTO directory_groups (id, tenant_id, name, name_lower, description, created_at, updated_at, provisioned, external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(g.id.as_uuid())
        .bind(g.tenant_id.as_uuid())
        .bind(g.name.as_str())
        .bind(g.name.normalized())
        .bind(g.description.as_ref().map(|d| d.as_str()))
        .bind(g.created_at.as_millis())
        .bind(g.updated_at.as_millis())
        .bind(g.provisioning.is_some())
        .bind(g.provisioning.as_ref().and_then(|p| p.external_id.as_deref()))
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
            "UPDATE directory_groups SET name = $3, name_lower = $4, description = $5, updated_at = $6, provisioned = $7, external_id = $8 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(g.tenant_id.as_uuid())
        .bind(g.id.as_uuid())
        .bind(g.name.as_str())
        .bind(g.name.normalized())
        .bind(g.description.as_ref().map(|d| d.as_str()))
        .bind(g.updated_at.as_millis())
        .bind(g.provisioning.is_some())
        .bind(g.provisioning.as_ref().and_then(|p| p.external_id.as_deref()))
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

    async fn count_users(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<u64, StoreError> {
        let c = super::query::compile_count(q, &[ObjectKind::User], tenant)?;
        let sql = format!("SELECT COUNT(*) FROM users u WHERE {}", c.clause);
        let n: i64 = super::query::bind(sqlx::query(&sql), c.binds).fetch_one(self.c()).await.map_err(map_err)?.try_get(0).map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn count_groups(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<u64, StoreError> {
        let c = super::query::compile_count(q, &[ObjectKind::Group], tenant)?;
        let sql = format!("SELECT COUNT(*) FROM directory_groups g WHERE {}", c.clause);
        let n: i64 = super::query::bind(sqlx::query(&sql), c.binds).fetch_one(self.c()).await.map_err(map_err)?.try_get(0).map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn query_groups(&mut self, tenant: TenantId, q: &DirectoryQuery) -> Result<Vec<Group>, StoreError> {
        let c = super::query::compile(q, &[ObjectKind::Group], tenant)?;
        let sql = format!("SELECT {GROUP_COLS} FROM directory_groups g WHERE {}", c.clause);
        rows(super::query::bind(sqlx::query(&sql), c.binds).fetch_all(self.c()).await.map_err(map_err)?, group_from_row)
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

    async fn user_group_ids(&mut self, tenant: TenantId, user: UserId) -> Result<Vec<GroupId>, StoreError> {
        let rs = sqlx::query("SELECT group_id FROM group_members WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(self.c())
            .await
            .map_err(map_err)?;
        rs.iter().map(|r| r.try_get("group_id").map(GroupId::from_uuid).map_err(map_err)).collect()
    }
}

type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

/// Binds what a provisioning source says about `u` (NULLs when it is not provisioned): the
/// columns `user_name` to `scim_active`, in that order, after the user's own.
fn bind_provisioning<'q>(q: DbQuery<'q>, u: &'q User) -> Result<DbQuery<'q>, StoreError> {
    let p = u.provisioning.as_ref();
    let emails = match p {
        Some(p) if !p.emails.is_empty() => Some(serde_json::to_string(&p.emails).map_err(|e| StoreError::Corrupt(format!("users.emails: {e}")))?),
        _ => None,
    };
    Ok(q.bind(p.map(|p| p.user_name.as_str()))
        .bind(p.map(|p| fold(&p.user_name)))
        .bind(p.and_then(|p| p.external_id.as_deref()))
        .bind(p.and_then(|p| p.title.as_deref()))
        .bind(folded(p.and_then(|p| p.title.as_deref())))
        .bind(p.and_then(|p| p.department.as_deref()))
        .bind(p.and_then(|p| p.employee_number.as_deref()))
        .bind(p.and_then(|p| p.manager).map(|m| m.as_uuid()))
        .bind(p.and_then(|p| p.formatted_name.as_deref()))
        .bind(emails)
        .bind(p.and_then(|p| p.active)))
}
