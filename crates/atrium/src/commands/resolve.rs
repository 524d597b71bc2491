//! Names wherever a GUID is accepted: accounts and products by name, tenants by domain (or its
//! first label, or the organization name), users by userPrincipalName or alias, groups by name,
//! applications by name or App ID, account members by any of these. Every lookup goes through
//! the REST API with the caller's own rights, so a name reveals nothing a GUID would not. No
//! match, or more than one, is an error that says what was looked for and lists the candidates.

use crate::client::{Client, seg};
use anyhow::bail;
use atrium_api_types::{Account, AccountTenant, Application, Group, Me, Member, Page, Product, Subscription, Tenant, User};

pub fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s.trim()).is_ok()
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The one candidate of the best tier that has any: tier 0 is an exact id or identifier, tier 1
/// a looser name (an alias, a display name). Several in that tier: an error listing them.
fn pick<T>(what: &str, reference: &str, mut tiers: [Vec<T>; 2], label: impl Fn(&T) -> String, all: impl FnOnce() -> Vec<String>) -> anyhow::Result<T> {
    for tier in &mut tiers {
        match tier.len() {
            0 => continue,
            1 => return Ok(tier.remove(0)),
            n => {
                let names: Vec<String> = tier.iter().map(&label).collect();
                let plural = match what.split_once(' ') {
                    Some((noun, rest)) => format!("{noun}s {rest}"),
                    None => format!("{what}s"),
                };
                bail!("'{reference}' matches {n} {plural}: {}; name one exactly (or give its id)", names.join("; "));
            }
        }
    }
    let known = all();
    if known.is_empty() {
        bail!("no {what} matches '{reference}'");
    }
    bail!("no {what} matches '{reference}'; there are: {}", known.join(", "));
}

/// An account by GUID or name (among the accounts you own or are a member of).
pub async fn account(c: &Client, reference: &str) -> anyhow::Result<String> {
    if is_guid(reference) {
        return Ok(reference.trim().to_owned());
    }
    let list: Vec<Account> = c.get("/api/v1/accounts").await?;
    let exact: Vec<&Account> = list.iter().filter(|a| same(&a.name, reference)).collect();
    let a = pick("account", reference, [exact, Vec::new()], |a| format!("{} ({})", a.name, a.id), || list.iter().map(|a| a.name.clone()).collect())?;
    Ok(a.id.to_string())
}

/// Whether `reference` names the tenant: its domain, the domain's first label or its organization name.
fn tenant_tier(t: &Tenant, reference: &str) -> Option<usize> {
    let first_label = t.domain.split('.').next().unwrap_or_default();
    if same(&t.domain, reference) {
        Some(0)
    } else if same(first_label, reference) || same(&t.display_name, reference) {
        Some(1)
    } else {
        None
    }
}

fn tenant_tiers<'a>(list: impl Iterator<Item = &'a Tenant>, reference: &str) -> [Vec<&'a Tenant>; 2] {
    let mut tiers = [Vec::new(), Vec::new()];
    for t in list {
        if let Some(i) = tenant_tier(t, reference) {
            tiers[i].push(t);
        }
    }
    tiers
}

/// A tenant by GUID or domain, among the tenants you can see.
pub async fn tenant(c: &Client, reference: &str) -> anyhow::Result<String> {
    if is_guid(reference) {
        return Ok(reference.trim().to_owned());
    }
    let wanted = reference.trim().to_ascii_lowercase();
    let prefix = wanted.split('.').next().unwrap_or_default();
    let page: Page<Tenant> = c.get(&format!("/api/v1/tenants?search={}&limit=200", seg(prefix))).await?;
    let tiers = tenant_tiers(page.items.iter(), &wanted);
    let t = pick("tenant visible to you", reference, tiers, |t| format!("{} ({})", t.domain, t.display_name), Vec::new)?;
    Ok(t.id.to_string())
}

/// A tenant associated with the account, by GUID, domain, first label or organization name.
pub async fn account_tenant(c: &Client, account: &str, reference: &str) -> anyhow::Result<Tenant> {
    let list: Vec<AccountTenant> = c.get(&format!("/api/v1/accounts/{}/tenants", seg(account))).await?;
    let by_id: Vec<&Tenant> = list.iter().map(|t| &t.tenant).filter(|t| is_guid(reference) && same(&t.id.to_string(), reference)).collect();
    let mut tiers = tenant_tiers(list.iter().map(|t| &t.tenant), reference);
    tiers[0].extend(by_id);
    let t = pick("tenant associated with the account", reference, tiers, |t| format!("{} ({})", t.domain, t.display_name), || {
        list.iter().map(|t| t.tenant.domain.clone()).collect()
    })?;
    Ok(t.clone())
}

/// The tenant you signed in through.
pub async fn my_tenant(c: &Client) -> anyhow::Result<Tenant> {
    let me: Me = c.get("/api/v1/me").await?;
    Ok(me.tenant)
}

/// A user of the tenant by GUID, userPrincipalName or alias (the server resolves those), else by
/// exact display name.
pub async fn user(c: &Client, tid: &str, reference: &str) -> anyhow::Result<User> {
    if let Some(u) = c.get_opt::<User>(&format!("/api/v1/tenants/{}/users/{}", seg(tid), seg(reference.trim()))).await? {
        return Ok(u);
    }
    let page: Page<User> = c.get(&format!("/api/v1/tenants/{}/users?search={}&limit=200", seg(tid), seg(reference.trim()))).await?;
    let named: Vec<User> = page.items.into_iter().filter(|u| same(&u.display_name, reference)).collect();
    pick("user", reference, [Vec::new(), named], |u| format!("{} ({})", u.display_name, u.user_principal_name), Vec::new)
}

/// A group of the tenant by GUID or name.
pub async fn group(c: &Client, tid: &str, reference: &str) -> anyhow::Result<Group> {
    if is_guid(reference) {
        return c.get(&format!("/api/v1/tenants/{}/groups/{}", seg(tid), seg(reference.trim()))).await;
    }
    let page: Page<Group> = c.get(&format!("/api/v1/tenants/{}/groups?search={}&limit=200", seg(tid), seg(reference.trim()))).await?;
    let named: Vec<Group> = page.items.into_iter().filter(|g| same(&g.display_name, reference)).collect();
    pick("group", reference, [named, Vec::new()], |g| format!("{} ({})", g.display_name, g.id), Vec::new)
}

/// An application of the tenant by object id, App ID (client id) or name.
pub async fn application(c: &Client, tid: &str, reference: &str) -> anyhow::Result<Application> {
    if is_guid(reference) {
        return c.get(&format!("/api/v1/tenants/{}/applications/{}", seg(tid), seg(reference.trim()))).await;
    }
    let page: Page<Application> = c.get(&format!("/api/v1/tenants/{}/applications?search={}&limit=200", seg(tid), seg(reference.trim()))).await?;
    let named: Vec<Application> = page.items.into_iter().filter(|a| same(&a.display_name, reference)).collect();
    pick("application", reference, [named, Vec::new()], |a| format!("{} (App ID {})", a.display_name, a.app_id), Vec::new)
}

/// A principal to add to an account (or to check), as the id the members API takes. Users go
/// as given: the server resolves GUIDs, userPrincipalNames and aliases in the principal's
/// tenant. Groups and applications are looked up by name here.
pub async fn principal_id(c: &Client, tid: &str, kind: &str, reference: &str) -> anyhow::Result<String> {
    match kind {
        "group" => Ok(group(c, tid, reference).await?.id.to_string()),
        "application" => Ok(application(c, tid, reference).await?.id.to_string()),
        _ => Ok(reference.trim().to_owned()),
    }
}

/// A member of the account by id, userPrincipalName, App ID, alias or name; `kind` narrows it.
pub async fn member(c: &Client, account: &str, kind: Option<&str>, reference: &str) -> anyhow::Result<Member> {
    let list: Vec<Member> = c.get(&format!("/api/v1/accounts/{}/members", seg(account))).await?;
    let of_kind = || list.iter().filter(|m| kind.is_none_or(|k| m.kind == k));
    let exact: Vec<&Member> = of_kind()
        .filter(|m| same(&m.id.to_string(), reference) || m.identifier.as_deref().is_some_and(|i| same(i, reference)))
        .collect();
    let loose: Vec<&Member> = of_kind()
        .filter(|m| {
            let alias = m.identifier.as_deref().filter(|_| m.kind == "user").and_then(|i| i.split('@').next());
            alias.is_some_and(|a| same(a, reference)) || m.display_name.as_deref().is_some_and(|n| same(n, reference))
        })
        .collect();
    let what = kind.map(|k| format!("{k} among the account's members")).unwrap_or_else(|| "member of the account".into());
    let label = |m: &&Member| {
        let name = m.display_name.clone().unwrap_or_default();
        match (&m.identifier, &m.tenant_domain) {
            (Some(i), Some(t)) => format!("{} {name} ({i}, {t})", m.kind),
            (Some(i), None) => format!("{} {name} ({i})", m.kind),
            _ => format!("{} {name} ({})", m.kind, m.id),
        }
    };
    let m = pick(&what, reference, [exact, loose], label, Vec::new)?;
    Ok(m.clone())
}

/// A product of the account by GUID or name.
pub async fn product(c: &Client, account: &str, reference: &str) -> anyhow::Result<String> {
    if is_guid(reference) {
        return Ok(reference.trim().to_owned());
    }
    let list: Vec<Product> = c.get(&format!("/api/v1/accounts/{}/products", seg(account))).await?;
    let named: Vec<&Product> = list.iter().filter(|p| same(&p.name, reference)).collect();
    let p = pick("product", reference, [named, Vec::new()], |p| format!("{} ({})", p.name, p.id), || list.iter().map(|p| p.name.clone()).collect())?;
    Ok(p.id.to_string())
}

/// A subscription by GUID or name (among those you own or co-administer).
pub async fn subscription(c: &Client, reference: &str) -> anyhow::Result<String> {
    if is_guid(reference) {
        return Ok(reference.trim().to_owned());
    }
    let list: Vec<Subscription> = c.get("/api/v1/subscriptions").await?;
    let named: Vec<&Subscription> = list.iter().filter(|s| same(&s.name, reference)).collect();
    let s = pick("subscription", reference, [named, Vec::new()], |s| format!("{} ({})", s.name, s.id), || list.iter().map(|s| s.name.clone()).collect())?;
    Ok(s.id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_and_missing_names_list_the_candidates() {
        let e = pick("group", "eng", [vec!["Eng (1)", "ENG (2)"], vec![]], |s| s.to_string(), Vec::new).unwrap_err().to_string();
        assert!(e.contains("'eng' matches 2 groups: Eng (1); ENG (2)"), "{e}");
        let e = pick::<&str>("account", "Nope", [vec![], vec![]], |s| s.to_string(), || vec!["Contoso".into(), "Fabrikam".into()]).unwrap_err().to_string();
        assert_eq!(e, "no account matches 'Nope'; there are: Contoso, Fabrikam");
        // An exact match wins over looser ones.
        assert_eq!(pick("user", "ann", [vec!["exact"], vec!["a", "b"]], |s| s.to_string(), Vec::new).unwrap(), "exact");
    }
}
