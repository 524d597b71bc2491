//! Microsoft Graph access: admin consent of Graph application permissions (app role
//! assignments to the built-in Graph service principal's roles), and turning a Graph bearer
//! token into the calling [`Actor`] with what its credential allows ([`Access`]).

use super::applications::find_app;
use super::{Services, authz, details};
use crate::actor::{Access, Actor};
use crate::error::{Error, ErrorCode};
use crate::graph::{DirectoryOp, GRAPH_APP_ID, GraphPermission};
use crate::ids::{AppRoleAssignmentId, ApplicationId, ClientId, SessionId, TenantId, UserId};
use crate::model::AppRoleAssignment;
use crate::ports::{StoreError, Tx};
use crate::secret::Secret;
use crate::services::identity::{GRAPH_APP_ID as GRAPH_APP_ID_STR, GRAPH_RESOURCE};

/// One Graph application permission granted to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphGrant {
    pub permission: GraphPermission,
    pub assignment: AppRoleAssignment,
}

impl Services {
    /// "Grant admin consent": gives an application of the tenant Graph application
    /// permissions (by name, `User.Read.All`, or by Microsoft's app role id). A global
    /// administrator of the tenant may. Permissions it already has stay as they are. Returns
    /// every Graph permission the application holds afterwards.
    pub async fn grant_graph_permissions(&self, actor: &Actor, tenant_id: TenantId, application: &str, permissions: &[String]) -> Result<Vec<GraphGrant>, Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let wanted = parse_permissions(permissions)?;
        let mut tx = self.write().await?;
        let app = find_app(tx.as_mut(), tenant_id, application).await?;
        let now = self.clock.now();
        for p in wanted {
            let a = AppRoleAssignment {
                id: AppRoleAssignmentId::random(self.rng.as_ref()),
                tenant_id,
                application_id: app.id,
                resource_app_id: GRAPH_APP_ID,
                app_role_id: p.id(),
                created_at: now,
            };
            // Held already (or granted by a concurrent call): nothing to add or record.
            match tx.insert_app_role_assignment(&a).await {
                Ok(true) => {}
                Ok(false) => continue,
                // Deleted meanwhile by another call.
                Err(StoreError::MissingReference) => return Err(Error::new(ErrorCode::ApplicationNotFound).with_target("applicationId")),
                Err(e) => return Err(e.into()),
            }
            tx.insert_audit(&self.audit(
                Some(actor),
                "application.graph_permission.grant",
                "application",
                app.id,
                Some(tenant_id),
                details(&[("permission", p.value()), ("appRoleId", &p.id().to_string())]),
            ))
            .await?;
        }
        let all = graph_grants(tx.as_mut(), tenant_id, app.id).await?;
        tx.commit().await?;
        Ok(all)
    }

    /// Removes one Graph application permission (by name or app role id) from an application.
    /// Tokens issued before keep it until they expire, as in Entra, but Atrium's Graph checks
    /// the grant on every request, so it stops working at once.
    pub async fn revoke_graph_permission(&self, actor: &Actor, tenant_id: TenantId, application: &str, permission: &str) -> Result<(), Error> {
        authz::tenant_admin(actor, tenant_id)?;
        let p = GraphPermission::parse(permission).ok_or_else(|| unknown_permission(permission, "permission"))?;
        let mut tx = self.write().await?;
        let app = find_app(tx.as_mut(), tenant_id, application).await?;
        let held = graph_grants(tx.as_mut(), tenant_id, app.id).await?;
        let Some(g) = held.into_iter().find(|g| g.permission == p) else {
            return Err(Error::new(ErrorCode::NotFound).with_message(format!("The application does not have the permission '{}'.", p.value())).with_target("permission"));
        };
        tx.delete_app_role_assignment(tenant_id, app.id, g.assignment.id).await?;
        tx.insert_audit(&self.audit(Some(actor), "application.graph_permission.revoke", "application", app.id, Some(tenant_id), details(&[("permission", p.value())])))
            .await?;
        tx.commit().await.map_err(Error::from)
    }

    /// The Graph application permissions an application of the tenant holds.
    pub async fn list_graph_permissions(&self, actor: &Actor, tenant_id: TenantId, application: &str) -> Result<Vec<GraphGrant>, Error> {
        authz::tenant_reader(actor, tenant_id)?;
        let mut tx = self.read().await?;
        let app = find_app(tx.as_mut(), tenant_id, application).await?;
        graph_grants(tx.as_mut(), tenant_id, app.id).await
    }

    /// The caller of a Graph request. A JWT must be one of ours, unexpired, for Graph: its
    /// audience `https://graph.microsoft.com`, Graph's appId, or `own_audience` (this server's
    /// base URL, the Graph resource id the ARM metadata hands to the Azure CLI). App-only tokens
    /// act with the Graph permissions in their `roles` that the application still holds;
    /// delegated tokens with their `scp`, limited by the user's role. Anything else is a session
    /// token (console, REST), whose user's role alone decides.
    pub async fn authenticate_graph(&self, token: &Secret, own_audience: &str) -> Result<Actor, Error> {
        let jwt = token.expose();
        if jwt.is_empty() {
            return Err(Error::new(ErrorCode::Unauthenticated).with_message("Access token is empty."));
        }
        if jwt.split('.').count() != 3 {
            return self.authenticate(token).await;
        }
        let invalid = |why: &str| Error::new(ErrorCode::Unauthenticated).with_message(format!("Access token validation failure. {why}"));
        let claims = self.signer.verify(jwt).ok_or_else(|| invalid("Invalid signature."))?;
        let now = self.clock.now().as_millis() / 1000;
        if claims["exp"].as_i64().is_none_or(|e| e <= now) {
            return Err(Error::new(ErrorCode::Unauthenticated).with_message("Lifetime validation failed, the token is expired."));
        }
        let aud = claims["aud"].as_str().unwrap_or("").trim_end_matches('/');
        let own = own_audience.trim_end_matches('/');
        if !(aud.eq_ignore_ascii_case(GRAPH_RESOURCE) || aud.eq_ignore_ascii_case(GRAPH_APP_ID_STR) || (!own.is_empty() && aud.eq_ignore_ascii_case(own))) {
            return Err(invalid("Invalid audience."));
        }
        let tenant = TenantId::parse(claims["tid"].as_str().unwrap_or(""), "tid").map_err(|_| invalid("No tenant."))?;
        let mut tx = self.read().await?;
        if claims["idtyp"] == "app" {
            let client = claims["appid"].as_str().or(claims["azp"].as_str()).unwrap_or("");
            let client = ClientId::parse(client, "appid").map_err(|_| invalid("No client id."))?;
            let app = tx.find_application_by_client_id(tenant, client).await?.ok_or_else(|| invalid("Its application no longer exists."))?;
            let held = graph_grants(tx.as_mut(), tenant, app.id).await?;
            let in_token: Vec<GraphPermission> = claims["roles"].as_array().into_iter().flatten().filter_map(|r| r.as_str()).filter_map(GraphPermission::parse).collect();
            let roles = held.into_iter().map(|g| g.permission).filter(|p| in_token.contains(p)).collect();
            return Ok(Actor {
                // An application has no user id; its service principal id names no user.
                user_id: UserId::from_uuid(app.service_principal_id.as_uuid()),
                tenant_id: tenant,
                session_id: SessionId::from_uuid(uuid::Uuid::nil()),
                global_admin: false,
                must_change_password: false,
                application: Some(app.id),
                access: Access::GraphApp(roles),
            });
        }
        let oid = UserId::parse(claims["oid"].as_str().unwrap_or(""), "oid").map_err(|_| invalid("No oid."))?;
        let user = tx
            .get_user(tenant, oid)
            .await?
            .filter(|u| u.enabled)
            .ok_or_else(|| Error::new(ErrorCode::Unauthenticated).with_message("The token's user no longer exists or is disabled."))?;
        let scopes = claims["scp"].as_str().unwrap_or("").split_whitespace().map(str::to_owned).collect();
        Ok(Actor {
            user_id: user.id,
            tenant_id: tenant,
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            global_admin: user.global_admin,
            must_change_password: user.must_change_password,
            application: None,
            access: Access::GraphDelegated(scopes),
        })
    }
}

/// A directory object of any kind Graph's `directoryObjects` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryObjectView {
    User(Box<crate::model::User>),
    Group(crate::model::Group),
}

/// Most ids `directoryObjects/getByIds` takes, as in Graph.
pub const MAX_BY_IDS: usize = 1000;

impl Services {
    /// The caller's own tenant (Graph `/organization`, `/domains`).
    pub async fn graph_organization(&self, actor: &Actor) -> Result<crate::model::Tenant, Error> {
        authz::directory(actor, actor.tenant_id, DirectoryOp::ReadOrganization)?;
        let mut tx = self.read().await?;
        self.require_tenant(tx.as_mut(), actor.tenant_id).await
    }

    /// Users and groups of the tenant by id (Graph `directoryObjects/{id}` and `getByIds`),
    /// each kind only if the caller may read it; ids not found (or of a kind it may not read)
    /// are left out. `users`/`groups` limit the kinds looked at.
    pub async fn get_directory_objects(&self, actor: &Actor, tenant: TenantId, ids: &[uuid::Uuid], users: bool, groups: bool) -> Result<Vec<DirectoryObjectView>, Error> {
        if ids.len() > MAX_BY_IDS {
            return Err(Error::new(ErrorCode::InvalidRequest).with_message(format!("At most {MAX_BY_IDS} ids per request.")).with_target("ids"));
        }
        let read_users = authz::directory(actor, tenant, DirectoryOp::ReadUsers);
        let read_groups = authz::directory(actor, tenant, DirectoryOp::ReadGroups);
        if let (Err(e), Err(_)) = (&read_users, &read_groups) {
            return Err(e.clone());
        }
        let (users, groups) = (users && read_users.is_ok(), groups && read_groups.is_ok());
        let mut tx = self.read().await?;
        let mut out = Vec::new();
        for id in ids {
            if users && let Some(u) = tx.get_user(tenant, UserId::from_uuid(*id)).await? {
                out.push(DirectoryObjectView::User(Box::new(u)));
            } else if groups && let Some(g) = tx.get_group(tenant, crate::ids::GroupId::from_uuid(*id)).await? {
                out.push(DirectoryObjectView::Group(g));
            }
        }
        Ok(out)
    }
}

/// The Graph application permissions an application holds, in the permission table's order
/// (a stable `roles` claim; grants made in one call share their time). Assignments of other
/// resources' roles are not Graph permissions.
pub(crate) async fn graph_grants(tx: &mut dyn Tx, tenant: TenantId, app: ApplicationId) -> Result<Vec<GraphGrant>, Error> {
    let mut grants: Vec<GraphGrant> = tx
        .list_app_role_assignments(tenant, app)
        .await?
        .into_iter()
        .filter(|a| a.resource_app_id == GRAPH_APP_ID)
        .filter_map(|a| GraphPermission::from_id(a.app_role_id).map(|permission| GraphGrant { permission, assignment: a }))
        .collect();
    grants.sort_by_key(|g| g.permission);
    Ok(grants)
}

fn parse_permissions(permissions: &[String]) -> Result<Vec<GraphPermission>, Error> {
    if permissions.is_empty() {
        return Err(Error::new(ErrorCode::MissingField).with_message("Name at least one Graph permission.").with_target("permissions"));
    }
    let mut out = Vec::new();
    for (i, s) in permissions.iter().enumerate() {
        let p = GraphPermission::parse(s).ok_or_else(|| unknown_permission(s, &format!("permissions[{i}]")))?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn unknown_permission(s: &str, field: &str) -> Error {
    let known: Vec<&str> = crate::graph::GRAPH_APP_ROLES.iter().map(|r| r.value).collect();
    Error::new(ErrorCode::InvalidRequest)
        .with_message(format!("'{}' is not a Microsoft Graph application permission Atrium supports; use one of {}.", s.chars().take(80).collect::<String>(), known.join(", ")))
        .with_target(field)
}
