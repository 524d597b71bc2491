//! Provisioned groups: created, renamed, filled and deleted by the tenant's source through SCIM.

use super::{CountedPage, Provisioner, check_version};
use crate::domain::GroupName;
use crate::error::{Error, ErrorCode};
use crate::ids::{GroupId, TenantId, UserId};
use crate::model::{Group, ProvisionedGroup, User};
use crate::page::ListQuery;
use crate::ports::{StoreError, Tx};
use crate::query::{Attr, DirectoryQuery, Filter, ObjectKind, Op, Value};
use crate::services::Services;
use crate::time::Timestamp;
use std::collections::BTreeSet;

/// Everything a source asserts about a group.
#[derive(Debug, Clone, Default)]
pub struct ProvisionGroup {
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member user ids; `None` leaves the members as they are.
    pub members: Option<Vec<String>>,
}

fn not_found() -> Error {
    Error::new(ErrorCode::GroupNotFound).with_message("No group provisioned by SCIM in this tenant has this id.").with_target("id")
}

fn name_taken(name: &GroupName) -> Error {
    Error::new(ErrorCode::GroupNameTaken).with_message(format!("Another group in this tenant is already named '{name}'.")).with_target("displayName")
}

async fn find(tx: &mut dyn Tx, tenant: TenantId, id: &str) -> Result<Group, Error> {
    let id = GroupId::parse(id, "id").map_err(|_| not_found())?;
    tx.get_group(tenant, id).await?.filter(|g| g.provisioning.is_some()).ok_or_else(not_found)
}

/// Every member of a group (users only: Atrium groups do not nest), in sign-in-name order.
async fn all_members(tx: &mut dyn Tx, tenant: TenantId, group: GroupId) -> Result<Vec<User>, Error> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = tx.list_group_members(tenant, group, &ListQuery { prefix: None, after: after.take(), limit: 500 }).await?;
        let full = page.len() == 500;
        if let Some(last) = page.last() {
            after = Some(last.upn.normalized());
        }
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// Parses member ids and checks each is a user of the tenant.
async fn member_ids(tx: &mut dyn Tx, tenant: TenantId, values: &[String]) -> Result<BTreeSet<UserId>, Error> {
    let mut ids = BTreeSet::new();
    for (i, v) in values.iter().enumerate() {
        let field = format!("members[{i}].value");
        let bad = || Error::new(ErrorCode::InvalidRequest).with_message(format!("'{v}' is not the id of a user of this tenant (groups hold users only).")).with_target(&field);
        let id = UserId::parse(v.trim(), "value").map_err(|_| bad())?;
        if !ids.contains(&id) && tx.get_user(tenant, id).await?.is_none() {
            return Err(bad());
        }
        ids.insert(id);
    }
    Ok(ids)
}

impl Services {
    pub async fn provision_group(&self, p: &Provisioner, input: ProvisionGroup) -> Result<(Group, Vec<User>), Error> {
        let name = GroupName::parse(&input.display_name, "displayName")?;
        let external_id = super::users::text(input.external_id.as_deref(), "externalId", 256)?;
        let now = self.clock.now();
        let group = Group {
            id: GroupId::random(self.rng.as_ref()),
            tenant_id: p.tenant_id,
            name,
            description: None,
            created_at: now,
            updated_at: now,
            provisioning: Some(ProvisionedGroup { external_id }),
        };
        let mut tx = self.write().await?;
        self.require_tenant(tx.as_mut(), p.tenant_id).await?;
        let members = member_ids(tx.as_mut(), p.tenant_id, input.members.as_deref().unwrap_or_default()).await?;
        match tx.insert_group(&group).await {
            Err(StoreError::Conflict) => return Err(name_taken(&group.name)),
            r => r?,
        }
        for m in &members {
            tx.add_group_member(p.tenant_id, group.id, *m, now).await?;
        }
        tx.insert_audit(&self.provisioning_audit(p, "group.provision.create", "group", group.id, vec![("displayName", group.name.to_string()), ("members", members.len().to_string())]))
            .await?;
        let users = all_members(tx.as_mut(), p.tenant_id, group.id).await?;
        tx.commit().await?;
        Ok((group, users))
    }

    /// A provisioned group and, when asked, its members.
    pub async fn get_provisioned_group(&self, p: &Provisioner, id: &str, with_members: bool) -> Result<(Group, Vec<User>), Error> {
        let mut tx = self.read().await?;
        let g = find(tx.as_mut(), p.tenant_id, id).await?;
        let members = if with_members { all_members(tx.as_mut(), p.tenant_id, g.id).await? } else { Vec::new() };
        Ok((g, members))
    }

    pub async fn query_provisioned_groups(
        &self,
        p: &Provisioner,
        filter: Option<Filter>,
        offset: u32,
        count: u32,
        with_members: bool,
    ) -> Result<CountedPage<(Group, Vec<User>)>, Error> {
        let scoped = Filter::And([Some(Filter::cmp(Attr::Provisioned, Op::Eq, Value::Bool(true))), filter].into_iter().flatten().collect());
        let q = DirectoryQuery::new(ObjectKind::Group, Some(scoped), None, None, count.max(1))?.with_offset(offset);
        let mut tx = self.read().await?;
        let total = tx.count_groups(p.tenant_id, &q).await?;
        let mut groups = if count == 0 { Vec::new() } else { tx.query_groups(p.tenant_id, &q).await? };
        groups.truncate(count as usize);
        let mut items = Vec::with_capacity(groups.len());
        for g in groups {
            let members = if with_members { all_members(tx.as_mut(), p.tenant_id, g.id).await? } else { Vec::new() };
            items.push((g, members));
        }
        Ok(CountedPage { items, total })
    }

    /// Replaces a group's name, externalId and (when given) its whole member list.
    pub async fn replace_provisioned_group(&self, p: &Provisioner, id: &str, input: ProvisionGroup, expected: Option<Timestamp>) -> Result<(Group, Vec<User>), Error> {
        let name = GroupName::parse(&input.display_name, "displayName")?;
        let external_id = super::users::text(input.external_id.as_deref(), "externalId", 256)?;
        let mut tx = self.write().await?;
        let mut g = find(tx.as_mut(), p.tenant_id, id).await?;
        check_version(expected, g.updated_at)?;
        let now = self.clock.now().max(g.updated_at.plus_millis(1));
        let (mut added, mut removed) = (0usize, 0usize);
        if let Some(values) = &input.members {
            let wanted = member_ids(tx.as_mut(), p.tenant_id, values).await?;
            let current: BTreeSet<UserId> = all_members(tx.as_mut(), p.tenant_id, g.id).await?.into_iter().map(|u| u.id).collect();
            for m in current.difference(&wanted) {
                tx.remove_group_member(p.tenant_id, g.id, *m).await?;
                removed += 1;
            }
            for m in wanted.difference(&current) {
                tx.add_group_member(p.tenant_id, g.id, *m, now).await?;
                added += 1;
            }
        }
        g.name = name;
        g.provisioning = Some(ProvisionedGroup { external_id });
        g.updated_at = now;
        match tx.update_group(&g).await {
            Err(StoreError::Conflict) => return Err(name_taken(&g.name)),
            r => r?,
        };
        tx.insert_audit(&self.provisioning_audit(
            p,
            "group.provision.update",
            "group",
            g.id,
            vec![("displayName", g.name.to_string()), ("membersAdded", added.to_string()), ("membersRemoved", removed.to_string())],
        ))
        .await?;
        let users = all_members(tx.as_mut(), p.tenant_id, g.id).await?;
        tx.commit().await?;
        Ok((g, users))
    }

    /// Adds and removes members without sending the whole list (SCIM PATCH on `members`).
    /// Adding a member twice or removing a non-member changes nothing, as SCIM clients expect,
    /// and a value that names no user of the tenant is skipped rather than failing the change:
    /// SCIM does not ask servers to check member references, clients (and scim-sanity) add
    /// members they cannot be sure of, and the reply shows who is a member.
    pub async fn change_provisioned_group_members(&self, p: &Provisioner, id: &str, add: &[String], remove: &[String]) -> Result<Group, Error> {
        let mut tx = self.write().await?;
        let mut g = find(tx.as_mut(), p.tenant_id, id).await?;
        let mut known = BTreeSet::new();
        for id in add.iter().filter_map(|v| UserId::parse(v.trim(), "value").ok()) {
            if !known.contains(&id) && tx.get_user(p.tenant_id, id).await?.is_some() {
                known.insert(id);
            }
        }
        let add = known;
        let remove: BTreeSet<UserId> = remove.iter().filter_map(|v| UserId::parse(v.trim(), "value").ok()).collect();
        let now = self.clock.now().max(g.updated_at.plus_millis(1));
        // Diffed against the current members: a refused insert would abort a PostgreSQL transaction.
        let current: BTreeSet<UserId> = all_members(tx.as_mut(), p.tenant_id, g.id).await?.into_iter().map(|u| u.id).collect();
        let (mut added, mut removed) = (0usize, 0usize);
        for m in remove.intersection(&current) {
            tx.remove_group_member(p.tenant_id, g.id, *m).await?;
            removed += 1;
        }
        for m in add.difference(&current) {
            if !remove.contains(m) {
                tx.add_group_member(p.tenant_id, g.id, *m, now).await?;
                added += 1;
            }
        }
        g.updated_at = now;
        tx.update_group(&g).await?;
        tx.insert_audit(&self.provisioning_audit(
            p,
            "group.provision.members",
            "group",
            g.id,
            vec![("displayName", g.name.to_string()), ("membersAdded", added.to_string()), ("membersRemoved", removed.to_string())],
        ))
        .await?;
        tx.commit().await?;
        Ok(g)
    }

    /// Deletes a provisioned group; its members stay in the directory.
    pub async fn delete_provisioned_group(&self, p: &Provisioner, id: &str, expected: Option<Timestamp>) -> Result<(), Error> {
        let mut tx = self.write().await?;
        let g = find(tx.as_mut(), p.tenant_id, id).await?;
        check_version(expected, g.updated_at)?;
        // Accounts the group was a member of lose it too; each account's log says so. (A nil
        // user owns and joins nothing, so only the group's memberships are listed.)
        let accounts = tx.list_accounts_for_user(p.tenant_id, UserId::from_uuid(uuid::Uuid::nil()), &[g.id]).await?;
        tx.delete_group(p.tenant_id, g.id).await?;
        tx.insert_audit(&self.provisioning_audit(p, "group.provision.delete", "group", g.id, vec![("displayName", g.name.to_string())])).await?;
        for a in accounts {
            let e = self.provisioning_audit(p, "account.member.remove", "group", g.id, vec![("displayName", g.name.to_string()), ("reason", "deleted by SCIM".into())]);
            tx.insert_audit(&e.in_account(a.id)).await?;
        }
        tx.commit().await.map_err(Error::from)
    }
}
