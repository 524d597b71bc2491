// App role assignments (Graph application permissions granted to applications).
// Included once per backend by `base.rs` (see there).

use atrium_core::ids::AppRoleAssignmentId;
use atrium_core::model::AppRoleAssignment;

#[async_trait]
impl AppRoleTx for DbTx {
    async fn insert_app_role_assignment(&mut self, a: &AppRoleAssignment) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO app_role_assignments (id, tenant_id, application_id, resource_app_id, app_role_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (application_id, resource_app_id, app_role_id) DO NOTHING",
        )
        .bind(a.id.as_uuid())
        .bind(a.tenant_id.as_uuid())
        .bind(a.application_id.as_uuid())
        .bind(a.resource_app_id)
        .bind(a.app_role_id)
        .bind(a.created_at.as_millis())
        .execute(self.c())
        .await
        .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_app_role_assignments(&mut self, tenant: TenantId, application: ApplicationId) -> Result<Vec<AppRoleAssignment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, resource_app_id, app_role_id, created_at FROM app_role_assignments \
             WHERE tenant_id = $1 AND application_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(application.as_uuid())
        .fetch_all(self.c())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(AppRoleAssignment {
                    id: AppRoleAssignmentId::from_uuid(r.try_get("id").map_err(map_err)?),
                    tenant_id: tenant,
                    application_id: application,
                    resource_app_id: r.try_get("resource_app_id").map_err(map_err)?,
                    app_role_id: r.try_get("app_role_id").map_err(map_err)?,
                    created_at: Timestamp::from_millis(r.try_get("created_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn delete_app_role_assignment(&mut self, tenant: TenantId, application: ApplicationId, id: AppRoleAssignmentId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM app_role_assignments WHERE tenant_id = $1 AND application_id = $2 AND id = $3")
            .bind(tenant.as_uuid())
            .bind(application.as_uuid())
            .bind(id.as_uuid())
            .execute(self.c())
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }
}
