-- Issue 16. Kept in lockstep with ../sqlite/0011_sign_in_logs.sql.
--
-- Sign-in logs (Entra's signIn resource): every attempt by a user or an application, kept
-- 30 days. user_id has no foreign key: the log outlives a deleted user, as Entra's does. No
-- password, secret or token is ever stored; user_principal_name is the name as typed.
CREATE TABLE sign_in_logs (
    id                   UUID PRIMARY KEY NOT NULL,
    created_at           BIGINT NOT NULL,
    tenant_id            UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL,
    user_id              UUID,
    user_principal_name  TEXT,
    app_id               TEXT,
    app_display_name     TEXT,
    client_app_used      TEXT NOT NULL,
    error_code           INTEGER NOT NULL,
    failure_reason       TEXT,
    mfa                  BOOLEAN NOT NULL,
    ip_address           TEXT,
    user_agent           TEXT,
    correlation_id       TEXT
);
CREATE INDEX sign_in_logs_tenant_at ON sign_in_logs (tenant_id, created_at, id);
CREATE INDEX sign_in_logs_at ON sign_in_logs (created_at, id);
