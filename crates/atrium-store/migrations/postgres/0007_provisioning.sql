-- SCIM provisioning (RFC 7643/7644): tokens a tenant's provisioning client presents, and what
-- the source says about the users and groups it provisions. A provisioned user has user_name;
-- a provisioned group has provisioned = true. Kept in lockstep with ../sqlite/0007_provisioning.sql.
CREATE TABLE provisioning_tokens (
    id          UUID PRIMARY KEY NOT NULL,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_by  UUID,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX provisioning_tokens_tenant ON provisioning_tokens (tenant_id);

ALTER TABLE users ADD COLUMN user_name TEXT;
ALTER TABLE users ADD COLUMN user_name_lower TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN external_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN title TEXT;
ALTER TABLE users ADD COLUMN title_lower TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN department TEXT;
ALTER TABLE users ADD COLUMN employee_number TEXT;
ALTER TABLE users ADD COLUMN manager_id UUID REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE users ADD COLUMN formatted_name TEXT;
ALTER TABLE users ADD COLUMN emails TEXT;
ALTER TABLE users ADD COLUMN scim_active BOOLEAN;
CREATE UNIQUE INDEX users_user_name_unique ON users (tenant_id, user_name_lower);
CREATE INDEX users_external_id ON users (tenant_id, external_id);
CREATE INDEX users_title_lower ON users (tenant_id, title_lower);
CREATE INDEX users_updated_at ON users (tenant_id, updated_at);
CREATE INDEX users_manager ON users (manager_id);

ALTER TABLE directory_groups ADD COLUMN provisioned BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE directory_groups ADD COLUMN external_id TEXT COLLATE "C";
CREATE INDEX directory_groups_external_id ON directory_groups (tenant_id, external_id);
CREATE INDEX directory_groups_updated_at ON directory_groups (tenant_id, updated_at);
