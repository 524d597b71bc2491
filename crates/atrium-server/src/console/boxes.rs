//! The checkbox lists of the create forms: a new user's groups and a new group's members. Both
//! the users and the groups pages use them, so they live here rather than in either.

use super::{AccountCtx, Failure, optional};
use crate::state::AppState;
use atrium_core::ids::TenantId;
use atrium_core::page::ListQuery;

/// One checkbox: a directory object's id, its label, and whether it was ticked.
pub struct CheckBox {
    pub id: String,
    pub name: String,
    pub checked: bool,
    /// A group whose members a SCIM source owns: shown, not changeable here.
    pub locked: bool,
}

/// The groups of the tenant the caller signed in through. Membership is offered only when the
/// caller may read them; a refusal leaves the list empty, a fault fails the page.
pub async fn group_boxes(st: &AppState, ctx: &AccountCtx, checked: &[String]) -> Result<Vec<CheckBox>, Failure> {
    let page = optional(st.services.list_groups(ctx.actor(), ctx.actor().tenant_id, &ListQuery::first(200)).await)?;
    Ok(page
        .map(|p| p.items.iter().map(|g| CheckBox { id: g.id.to_string(), name: g.name.to_string(), checked: checked.contains(&g.id.to_string()), locked: false }).collect())
        .unwrap_or_default())
}

/// The users of the tenant the caller signed in through, as candidate members of a new group;
/// like [`group_boxes`], empty when the caller may not read them.
pub async fn user_boxes(st: &AppState, ctx: &AccountCtx, checked: &[String]) -> Result<Vec<CheckBox>, Failure> {
    let page = optional(st.services.list_users(ctx.actor(), ctx.actor().tenant_id, &ListQuery::first(200)).await)?;
    Ok(page
        .map(|p| {
            p.items
                .iter()
                .map(|u| CheckBox { id: u.id.to_string(), name: format!("{} ({})", u.display_name, u.upn), checked: checked.contains(&u.id.to_string()), locked: false })
                .collect()
        })
        .unwrap_or_default())
}

/// The groups of `tenant` for a user's "Group membership", ticked where `checked`; groups a
/// SCIM source owns are locked (their members change at the source).
pub async fn tenant_group_boxes(st: &AppState, ctx: &AccountCtx, tenant: TenantId, checked: &[String]) -> Result<Vec<CheckBox>, Failure> {
    let page = st.services.list_groups(ctx.actor(), tenant, &ListQuery::first(200)).await?;
    Ok(page
        .items
        .iter()
        .map(|g| CheckBox { id: g.id.to_string(), name: g.name.to_string(), checked: checked.contains(&g.id.to_string()), locked: g.provisioning.is_some() })
        .collect())
}

/// The users of `tenant` as candidate members of a group, ticked where `checked`.
pub async fn tenant_user_boxes(st: &AppState, ctx: &AccountCtx, tenant: TenantId, checked: &[String]) -> Result<Vec<CheckBox>, Failure> {
    let page = st.services.list_users(ctx.actor(), tenant, &ListQuery::first(200)).await?;
    Ok(page
        .items
        .iter()
        .map(|u| CheckBox { id: u.id.to_string(), name: format!("{} ({})", u.display_name, u.upn), checked: checked.contains(&u.id.to_string()), locked: false })
        .collect())
}

/// What ticking and unticking changed: (to add, to remove), among the boxes that may change.
pub fn changes(boxes: &[CheckBox], before: &[String], after: &[String]) -> (Vec<String>, Vec<String>) {
    let open = boxes.iter().filter(|b| !b.locked);
    let add = open.clone().filter(|b| after.contains(&b.id) && !before.contains(&b.id)).map(|b| b.id.clone()).collect();
    let remove = open.filter(|b| !after.contains(&b.id) && before.contains(&b.id)).map(|b| b.id.clone()).collect();
    (add, remove)
}
