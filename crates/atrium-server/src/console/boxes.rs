//! The checkbox lists of the create forms: a new user's groups and a new group's members. Both
//! the users and the groups pages use them, so they live here rather than in either.

use super::{AccountCtx, Failure, optional};
use crate::state::AppState;
use atrium_core::page::ListQuery;

/// One checkbox: a directory object's id, its label, and whether it was ticked.
pub struct CheckBox {
    pub id: String,
    pub name: String,
    pub checked: bool,
}

/// The groups of the tenant the caller signed in through. Membership is offered only when the
/// caller may read them; a refusal leaves the list empty, a fault fails the page.
pub async fn group_boxes(st: &AppState, ctx: &AccountCtx, checked: &[String]) -> Result<Vec<CheckBox>, Failure> {
    let page = optional(st.services.list_groups(ctx.actor(), ctx.actor().tenant_id, &ListQuery::first(200)).await)?;
    Ok(page
        .map(|p| p.items.iter().map(|g| CheckBox { id: g.id.to_string(), name: g.name.to_string(), checked: checked.contains(&g.id.to_string()) }).collect())
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
                .map(|u| CheckBox { id: u.id.to_string(), name: format!("{} ({})", u.display_name, u.upn), checked: checked.contains(&u.id.to_string()) })
                .collect()
        })
        .unwrap_or_default())
}
