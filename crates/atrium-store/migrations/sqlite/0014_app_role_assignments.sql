-- Issue 13. Kept in lockstep with ../postgres/0014_app_role_assignments.sql.
--
-- App role assignments (Entra's appRoleAssignment): an app role of a resource granted to an
-- application's service principal. Microsoft Graph's application permissions are app roles
-- of the built-in Graph service principal, so `resource_app_id` is Graph's appId
-- (00000003-0000-0000-c000-000000000000) and `app_role_id` Microsoft's id of the permission
-- (User.Read.All = df021288-…). A grant goes with its application.
CREATE TABLE app_role_assignments (
    id               BLOB PRIMARY KEY NOT NULL,
    tenant_id        BLOB NOT NULL,
    application_id   BLOB NOT NULL,
    resource_app_id  BLOB NOT NULL,
    app_role_id      BLOB NOT NULL,
    created_at       BIGINT NOT NULL,
    CONSTRAINT app_role_assignments_unique UNIQUE (application_id, resource_app_id, app_role_id),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
