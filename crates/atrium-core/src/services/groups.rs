//! Groups: create, read, update, delete, list, search, and direct members (no nesting).

use super::users::find_user;
use super::{Services, authz, details, opt};
use crate::actor::Actor;
use crate::domain::{Description, GroupName};
use crate::error::{Error, ErrorCode};
use crate::graph::DirectoryOp;
use crate::ids::{GroupId, TenantId, UserId};
use crate::model::{Group, User};
use crate::page::{ListQuery, Page};
use crate::query::{DirectoryQuery, ObjectKind};
use crate::ports::{StoreError, Tx};

#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub display_name: String,
    pub description: Option<String>,
    /// Users of the same tenant to add as members.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

impl Services {
    pub async fn create_group(&self, actor: &Actor, tenant_id: TenantId, input: NewGroup) -> Result<Group, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteGroups)?;
        let mut tx = self.write().await?;
        let group = self.create_group_in(tx.as_mut(), actor, tenant_id, input).await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Creates a group with its members inside the caller's transaction (R5 applies). Used by
    /// the directory API and by "create a group" of an account, so both are one transaction.
    pub(crate) async fn create_group_in(&self, tx: &mut dyn Tx, actor: &Actor, tenant_id: TenantId, input: NewGroup) -> Result<Group, Error> {
        let name = GroupName::parse(&input.display_name, "displayName")?;
        let description = opt(input.description.as_deref(), |s| Description::parse(s, "description"))?;
        let members = input
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| UserId::parse(m, &format!("members[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now();
        let group = Group { id: GroupId::random(self.rng.as_ref()), tenant_id, name, description, created_at: now, updated_at: now, provisioning: None };
        let tenant = self.require_tenant(tx, tenant_id).await?;
        if tenant.directory_sync {
            return Err(ErrorCode::DirectorySyncEnabled.into());
        }
        match tx.insert_group(&group).await {
            Err(StoreError::Conflict) => return Err(name_taken(&group.name)),
            r => r?,
        }
        for (i, m) in members.iter().enumerate() {
            add_member(tx, tenant_id, group.id, *m, now, &format!("members[{i}]")).await?;
        }
        let count = members.len().to_string();
        tx.insert_audit(&self.audit(
            Some(actor),
            "group.create",
            "group",
            group.id,
            Some(tenant_id),
            details(&[("displayName", group.name.as_str()), ("members", &count)]),
        ))
        .await?;
        Ok(group)
    }

    pub async fn get_group(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId) -> Result<Group, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadGroups)?;
        let mut tx = self.read().await?;
        find_group(tx.as_mut(), tenant_id, group_id).await
    }

    pub async fn list_groups(&self, actor: &Actor, tenant_id: TenantId, q: &ListQuery) -> Result<Page<Group>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadGroups)?;
        self.query_groups(actor, tenant_id, &DirectoryQuery::search(ObjectKind::Group, q)?).await
    }

    /// One page of the tenant's groups that match a directory query (REST `search` now;
    /// Graph `$filter` and SCIM `filter` parse into the same query).
    pub async fn query_groups(&self, actor: &Actor, tenant_id: TenantId, q: &DirectoryQuery) -> Result<Page<Group>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadGroups)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        let rows = tx.query_groups(tenant_id, q).await?;
        Ok(Page::from_rows(rows, q.limit(), |o| q.cursor_of(o)))
    }

    /// How many of the tenant's groups match a query (its filter; the page is ignored).
    pub async fn count_groups(&self, actor: &Actor, tenant_id: TenantId, q: &DirectoryQuery) -> Result<u64, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadGroups)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), tenant_id).await?;
        Ok(tx.count_groups(tenant_id, q).await?)
    }

    pub async fn update_group(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId, patch: GroupPatch) -> Result<Group, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteGroups)?;
        let name = opt(patch.display_name.as_deref(), |s| GroupName::parse(s, "displayName"))?;
        let description = match &patch.description {
            None => None,
            Some(v) => Some(opt(v.as_deref(), |s| Description::parse(s, "description"))?),
        };
        let mut tx = self.write().await?;
        let mut g = find_group(tx.as_mut(), tenant_id, group_id).await?;
        if g.provisioning.is_some() {
            return Err(super::provisioning::source_owned("group"));
        }
        let mut changed: Vec<(&str, String)> = Vec::new();
        if let Some(v) = name {
            changed.push(("displayName", v.to_string()));
            g.name = v;
        }
        if let Some(v) = description {
            changed.push(("description", v.as_ref().map(ToString::to_string).unwrap_or_default()));
            g.description = v;
        }
        g.updated_at = self.clock.now();
        match tx.update_group(&g).await {
            Err(StoreError::Conflict) => return Err(name_taken(&g.name)),
            r => r?,
        };
        let pairs: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tx.insert_audit(&self.audit(Some(actor), "group.update", "group", g.id, Some(tenant_id), details(&pairs)))
            .await?;
        tx.commit().await?;
        Ok(g)
    }

    /// Deletes the group object; its members stay in the directory.
    pub async fn delete_group(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId) -> Result<(), Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteGroups)?;
        let mut tx = self.write().await?;
        let g = find_group(tx.as_mut(), tenant_id, group_id).await?;
        if g.provisioning.is_some() {
            return Err(super::provisioning::source_owned("group"));
        }
        tx.delete_group(tenant_id, group_id).await?;
        tx.insert_audit(&self.audit(
            Some(actor),
            "group.delete",
            "group",
            group_id,
            Some(tenant_id),
            details(&[("displayName", g.name.as_str())]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    pub async fn add_group_member(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId, user_id: UserId) -> Result<(), Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteGroupMembers)?;
        let mut tx = self.write().await?;
        if find_group(tx.as_mut(), tenant_id, group_id).await?.provisioning.is_some() {
            return Err(super::provisioning::source_owned("group"));
        }
        add_member(tx.as_mut(), tenant_id, group_id, user_id, self.clock.now(), "userId").await?;
        let uid = user_id.to_string();
        tx.insert_audit(&self.audit(
            Some(actor),
            "group.member.add",
            "group",
            group_id,
            Some(tenant_id),
            details(&[("userId", &uid)]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    pub async fn remove_group_member(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId, user_id: UserId) -> Result<(), Error> {
        authz::directory(actor, tenant_id, DirectoryOp::WriteGroupMembers)?;
        let mut tx = self.write().await?;
        if find_group(tx.as_mut(), tenant_id, group_id).await?.provisioning.is_some() {
            return Err(super::provisioning::source_owned("group"));
        }
        if !tx.remove_group_member(tenant_id, group_id, user_id).await? {
            return Err(Error::new(ErrorCode::UserNotFound)
                .with_message("The user is not a member of this group.")
                .with_target("userId"));
        }
        let uid = user_id.to_string();
        tx.insert_audit(&self.audit(
            Some(actor),
            "group.member.remove",
            "group",
            group_id,
            Some(tenant_id),
            details(&[("userId", &uid)]),
        ))
        .await?;
        tx.commit().await.map_err(Error::from)
    }

    pub async fn list_group_members(&self, actor: &Actor, tenant_id: TenantId, group_id: GroupId, q: &ListQuery) -> Result<Page<User>, Error> {
        authz::directory(actor, tenant_id, DirectoryOp::ReadGroups)?;
        let mut tx = self.read().await?;
        find_group(tx.as_mut(), tenant_id, group_id).await?;
        let rows = tx
            .list_group_members(tenant_id, group_id, &ListQuery { limit: q.limit + 1, ..q.clone() })
            .await?;
        Ok(Page::from_rows(rows, q.limit, |u| u.upn.normalized()))
    }
}

/// Adds a user to or removes them from a group inside the caller's transaction, with the same
/// rules as [`Services::add_group_member`] and [`Services::remove_group_member`].
pub(super) async fn change_membership(tx: &mut dyn Tx, tenant_id: TenantId, group_id: GroupId, user_id: UserId, adding: bool, at: crate::time::Timestamp) -> Result<(), Error> {
    if find_group(tx, tenant_id, group_id).await?.provisioning.is_some() {
        return Err(super::provisioning::source_owned("group"));
    }
    if adding {
        add_member(tx, tenant_id, group_id, user_id, at, "userId").await
    } else if tx.remove_group_member(tenant_id, group_id, user_id).await? {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::UserNotFound).with_message("The user is not a member of this group.").with_target("userId"))
    }
}

async fn find_group(tx: &mut dyn Tx, tenant_id: TenantId, group_id: GroupId) -> Result<Group, Error> {
    tx.get_group(tenant_id, group_id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::GroupNotFound).with_target("groupId"))
}

/// Adds a member of the same tenant. The user lookup is scoped to the tenant, so a user id from
/// another tenant is "not found"; the composite foreign key enforces the same in the schema.
async fn add_member(tx: &mut dyn Tx, tenant_id: TenantId, group_id: GroupId, user_id: UserId, at: crate::time::Timestamp, field: &str) -> Result<(), Error> {
    find_user(tx, tenant_id, &user_id.to_string()).await.map_err(|e| e.with_target(field))?;
    match tx.add_group_member(tenant_id, group_id, user_id, at).await {
        Err(StoreError::Conflict) => Err(Error::new(ErrorCode::AlreadyGroupMember).with_target(field)),
        Err(StoreError::MissingReference) => Err(Error::new(ErrorCode::UserNotFound).with_target(field)),
        r => r.map_err(Error::from),
    }
}

fn name_taken(name: &GroupName) -> Error {
    Error::new(ErrorCode::GroupNameTaken)
        .with_message(format!("Another group in this tenant is already named '{name}'."))
        .with_target("displayName")
}
