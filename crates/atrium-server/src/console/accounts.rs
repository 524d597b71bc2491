//! The account switcher: the accounts you own or belong to, and opening a new one.

use super::{FieldErrors, Failure, Layout, PageResult, Post, Session, redirect, render, render_status};
use crate::state::AppState;
use askama::Template;
use atrium_core::services::{NewAccount, may_open_account};
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts", get(list).post(create)).route("/accounts/{accountId}", get(open))
}

pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    l: Layout,
    accounts: Vec<AccountRow>,
    can_open: bool,
    name: String,
    errors: FieldErrors,
}

async fn page(st: &AppState, s: &Session, name: String, errors: FieldErrors) -> Result<AccountsPage, Failure> {
    let (user, tenant) = st.services.me(&s.actor).await?;
    let accounts = st
        .services
        .list_accounts(&s.actor)
        .await?
        .into_iter()
        .map(|c| AccountRow {
            id: c.account.id.to_string(),
            name: c.account.name.to_string(),
            kind: format!("{} · {}", c.account.account_type.as_str(), if c.account.program == atrium_core::access::Program::Hardware { "hardware" } else { "developer" }),
            role: c.role_label(),
        })
        .collect();
    let l = Layout {
        title: "Accounts".into(),
        csrf: s.csrf.clone(),
        user_name: user.display_name.to_string(),
        user_upn: user.upn.to_string(),
        tenant_domain: tenant.domain.to_string(),
        account: None,
        nav: "accounts",
    };
    Ok(AccountsPage { l, accounts, can_open: may_open_account(&s.actor).allowed(), name, errors })
}

async fn list(State(st): State<AppState>, s: Session) -> PageResult {
    Ok(render(&page(&st, &s, String::new(), FieldErrors::default()).await?))
}

async fn create(State(st): State<AppState>, Post { s, f }: Post) -> PageResult {
    let input = NewAccount { name: f.get("name").to_owned(), account_type: f.opt("accountType"), program: f.opt("program") };
    match st.services.create_account(&s.actor, input).await {
        Ok(a) => Ok(redirect(&format!("/accounts/{}/tenants", a.id))),
        Err(e) => {
            let errors = FieldErrors::from_error(&e, &["name", "accountType", "program"]);
            Ok(render_status(super::status_of(&e), &page(&st, &s, f.get("name").to_owned(), errors).await?))
        }
    }
}

async fn open(Path(id): Path<String>, _s: Session) -> PageResult {
    Ok(redirect(&format!("/accounts/{id}/users")))
}
