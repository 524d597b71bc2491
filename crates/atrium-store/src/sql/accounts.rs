// Partner accounts: associated tenants, members, products, activity history.
// Included once per backend by `base.rs` (see there).

#[async_trait]
impl AccountTx for DbTx {
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
}
