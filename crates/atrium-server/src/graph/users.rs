//! `/v1.0/users` and `/v1.0/me` (microsoft.graph.user), through the same user services as
//! REST, the console and SCIM.

use super::error::{GraphError, GraphResult};
use super::odata::{self, ENTITY, Entity, LIST, NONE};
use super::{Caller, Ctx, collection, entity, no_content, select};
use crate::state::AppState;
use atrium_core::model::{Group, User, UserType};
use atrium_core::query::{Attr, ObjectKind};
use atrium_core::services::{NewUser, UserPatch};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/{id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/v1.0/users/{id}/memberOf", get(member_of))
        .route("/v1.0/users/{id}/transitiveMemberOf", get(member_of))
        .route("/v1.0/users/{id}/manager", get(manager))
        .route("/v1.0/users/{id}/manager/$ref", put(set_manager).delete(set_manager))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/memberOf", get(my_groups))
        .route("/v1.0/me/transitiveMemberOf", get(my_groups))
}

/// Every property Atrium's users have in Graph. The first eleven are Graph's default set.
pub const USER: Entity = Entity {
    name: "user",
    kind: ObjectKind::User,
    properties: &[
        "id",
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "accountEnabled",
        "userType",
        "createdDateTime",
        "mailNickname",
        "otherMails",
        "creationType",
        "onPremisesSyncEnabled",
    ],
    searchable: &[Attr::DisplayName, Attr::UserPrincipalName, Attr::Mail, Attr::GivenName, Attr::Surname],
    orderable: &[Attr::DisplayName, Attr::UserPrincipalName],
};

const DEFAULT_PROPERTIES: usize = 11;

/// A user in Graph's shape: the default properties, or every property when `all`.
pub fn user_json(u: &User, all: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id.as_uuid()));
    m.insert("businessPhones".into(), json!([]));
    m.insert("displayName".into(), json!(u.display_name.as_str()));
    m.insert("givenName".into(), json!(u.given_name.as_ref().map(|v| v.as_str())));
    m.insert("jobTitle".into(), json!(u.provisioning.as_ref().and_then(|p| p.title.as_deref())));
    m.insert("mail".into(), json!(u.mail.as_ref().map(|v| v.as_str())));
    m.insert("mobilePhone".into(), Value::Null);
    m.insert("officeLocation".into(), Value::Null);
    m.insert("preferredLanguage".into(), Value::Null);
    m.insert("surname".into(), json!(u.surname.as_ref().map(|v| v.as_str())));
    m.insert("userPrincipalName".into(), json!(u.upn.as_str()));
    if all {
        m.insert("accountEnabled".into(), json!(u.enabled));
        m.insert("userType".into(), json!(u.user_type.as_str()));
        m.insert("createdDateTime".into(), json!(u.created_at.to_rfc3339()));
        // Atrium keeps no separate mail alias: it is the user principal name's alias.
        m.insert("mailNickname".into(), json!(u.upn.alias()));
        m.insert("otherMails".into(), json!([]));
        m.insert("creationType".into(), json!((u.user_type == UserType::Guest).then_some("Invitation")));
        m.insert("onPremisesSyncEnabled".into(), json!(u.provisioning.is_some().then_some(true)));
    }
    debug_assert!(m.len() == USER.properties.len() || (!all && m.len() == DEFAULT_PROPERTIES));
    m
}

/// A user as `$select` asks for it.
fn shaped(u: &User, sel: Option<&[&'static str]>) -> Value {
    select(user_json(u, sel.is_some()), sel, &[])
}

/// A user among other directory objects carries its type.
pub fn user_object(u: &User, sel: Option<&[&'static str]>) -> Value {
    let mut v = shaped(u, sel);
    v["@odata.type"] = json!("#microsoft.graph.user");
    v
}

async fn list_users(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &USER, LIST)?;
    let query = o.directory_query(ObjectKind::User)?;
    let page = st.services.query_users(&actor, actor.tenant_id, &query).await?;
    let count = if o.count { Some(st.services.count_users(&actor, actor.tenant_id, &query).await?) } else { None };
    let items = page.items.iter().map(|u| shaped(u, o.select.as_deref())).collect();
    let next = page.next_cursor.map(|c| o.next_link(&ctx.base, "/v1.0/users", &c));
    Ok(collection(&ctx, &format!("users{}", o.context_suffix()), items, count, next))
}

async fn get_user(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &USER, ENTITY)?;
    let u = st.services.get_user(&actor, actor.tenant_id, &id).await.map_err(|e| not_found(e, &id))?;
    Ok(entity(&ctx, &format!("users{}/$entity", o.context_suffix()), shaped(&u, o.select.as_deref()), StatusCode::OK))
}

async fn me(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &USER, ENTITY)?;
    let u = st.services.get_me(&actor).await?;
    Ok(entity(&ctx, &format!("users{}/$entity", o.context_suffix()), shaped(&u, o.select.as_deref()), StatusCode::OK))
}

/// Graph's words for a directory object that is not there.
pub fn not_found(e: atrium_core::Error, id: &str) -> GraphError {
    if e.code.http_status() == 404 {
        let id: String = id.chars().take(200).collect();
        GraphError::not_found(format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."))
    } else {
        e.into()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordProfile {
    password: Option<String>,
    #[serde(default)]
    force_change_password_next_sign_in: Option<bool>,
    #[serde(default)]
    force_change_password_next_sign_in_with_mfa: Option<bool>,
}

/// `POST /v1.0/users`. Graph requires these five; properties Atrium does not keep are refused
/// by name (strict parsing) rather than dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateUser {
    account_enabled: bool,
    display_name: String,
    mail_nickname: String,
    user_principal_name: String,
    password_profile: PasswordProfile,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    #[serde(default)]
    mail: Option<String>,
}

async fn create_user(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &USER, NONE)?;
    let req: CreateUser = super::body(&body)?;
    check_nickname(&req.mail_nickname, &req.user_principal_name)?;
    let Some(password) = req.password_profile.password else {
        return Err(GraphError::bad_request("passwordProfile.password is required.").with_target("passwordProfile.password"));
    };
    let force = req.password_profile.force_change_password_next_sign_in.unwrap_or(false) || req.password_profile.force_change_password_next_sign_in_with_mfa.unwrap_or(false);
    let input = NewUser {
        user_principal_name: req.user_principal_name,
        display_name: Some(req.display_name),
        given_name: req.given_name,
        surname: req.surname,
        mail: req.mail,
        password: Some(password),
        force_change_password: Some(force),
        global_admin: false,
        recovery_email: None,
        enabled: Some(req.account_enabled),
    };
    let created = st.services.create_user(&actor, actor.tenant_id, input).await.map_err(password_field)?;
    Ok(entity(&ctx, "users/$entity", Value::Object(user_json(&created.user, false)), StatusCode::CREATED))
}

/// Atrium derives the mail alias from the user principal name; a different one is refused
/// rather than silently replaced.
fn check_nickname(nickname: &str, upn: &str) -> GraphResult<()> {
    let alias = upn.split('@').next().unwrap_or("");
    if nickname.trim().is_empty() {
        return Err(GraphError::bad_request("mailNickname is required.").with_target("mailNickname"));
    }
    if !nickname.trim().eq_ignore_ascii_case(alias) {
        return Err(GraphError::bad_request(format!("Atrium's mailNickname is the alias of the userPrincipalName: use '{alias}'.")).with_target("mailNickname"));
    }
    Ok(())
}

fn password_field(e: atrium_core::Error) -> atrium_core::Error {
    if e.target.as_deref() == Some("password") { e.with_target("passwordProfile.password") } else { e }
}

/// `PATCH /v1.0/users/{id}`: `null` clears an optional property.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchUser {
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    mail: Option<Option<String>>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    mail_nickname: Option<String>,
    #[serde(default)]
    password_profile: Option<PasswordProfile>,
}

/// Present (`Some`), with `null` as `Some(None)`.
fn clearable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn update_user(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>, body: Bytes) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &USER, NONE)?;
    let req: PatchUser = super::body(&body)?;
    if req.password_profile.is_some() {
        // Not yet: a password reset through Graph needs the reset-password service (issue 13 follow-up).
        return Err(GraphError::bad_request("Resetting a password through Graph is not supported yet; use the console or the REST API.").with_target("passwordProfile"));
    }
    let u = st.services.get_user(&actor, actor.tenant_id, &id).await.map_err(|e| not_found(e, &id))?;
    if let Some(n) = &req.mail_nickname {
        check_nickname(n, req.user_principal_name.as_deref().unwrap_or(u.upn.as_str()))?;
    }
    let patch = UserPatch {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        given_name: req.given_name,
        surname: req.surname,
        mail: req.mail,
        recovery_email: None,
        enabled: req.account_enabled,
        global_admin: None,
    };
    st.services.update_user(&actor, actor.tenant_id, u.id, patch).await.map_err(|e| not_found(e, &id))?;
    Ok(no_content())
}

async fn delete_user(State(st): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    odata::parse(q.as_deref(), &headers, &USER, NONE)?;
    let u = st.services.get_user(&actor, actor.tenant_id, &id).await.map_err(|e| not_found(e, &id))?;
    st.services.delete_user(&actor, actor.tenant_id, u.id).await.map_err(|e| not_found(e, &id))?;
    Ok(no_content())
}

/// `memberOf` and `transitiveMemberOf`: Atrium's groups have users as members and do not
/// nest, so both are the user's groups.
async fn member_of(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &super::groups::GROUP, ENTITY)?;
    let u = st.services.get_user(&actor, actor.tenant_id, &id).await.map_err(|e| not_found(e, &id))?;
    let groups = st.services.list_user_groups(&actor, actor.tenant_id, u.id).await?;
    Ok(group_objects(&ctx, &groups, o.select.as_deref()))
}

async fn my_groups(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap, RawQuery(q): RawQuery, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let o = odata::parse(q.as_deref(), &headers, &super::groups::GROUP, ENTITY)?;
    let me = st.services.get_me(&actor).await?;
    let groups = st.services.list_user_groups(&actor, actor.tenant_id, me.id).await?;
    Ok(group_objects(&ctx, &groups, o.select.as_deref()))
}

fn group_objects(ctx: &Ctx, groups: &[Group], sel: Option<&[&'static str]>) -> Response {
    let items = groups.iter().map(|g| super::groups::group_object(g, sel)).collect();
    collection(ctx, "directoryObjects", items, None, None)
}

/// A user's manager: the one its provisioning source (SCIM's enterprise `manager`) set. A user
/// without one is Graph's 404.
async fn manager(State(st): State<AppState>, ctx: Ctx, Path(id): Path<String>, caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    let Caller(actor) = caller?;
    let u = st.services.get_user(&actor, actor.tenant_id, &id).await.map_err(|e| not_found(e, &id))?;
    let none = || GraphError::not_found("Resource 'manager' does not exist or one of its queried reference-property objects are not present.");
    let manager = u.provisioning.as_ref().and_then(|p| p.manager).ok_or_else(none)?;
    let m = st.services.get_user(&actor, actor.tenant_id, &manager.to_string()).await.map_err(|_| none())?;
    Ok(entity(&ctx, "directoryObjects/$entity", user_object(&m, None), StatusCode::OK))
}

/// Managers come only from a provisioning source (SCIM) so far; Graph cannot set them.
async fn set_manager(caller: Result<Caller, GraphError>) -> GraphResult<Response> {
    caller?;
    Err(GraphError::bad_request("Managers are set by the tenant's provisioning source (SCIM) in Atrium; Graph cannot set them yet.").with_target("manager"))
}
