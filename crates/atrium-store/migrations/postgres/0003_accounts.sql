-- Partner accounts: tenant associations, members with grants, products, pending associations,
-- activity history, and the account an audit event belongs to.
-- Kept in lockstep with ../sqlite/0003_accounts.sql.

CREATE TABLE accounts (
    id               UUID PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    account_type     TEXT NOT NULL CHECK (account_type IN ('company', 'individual')),
    program          TEXT NOT NULL CHECK (program IN ('developer', 'hardware')),
    owner_tenant_id  UUID NOT NULL,
    owner_user_id    UUID NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    FOREIGN KEY (owner_tenant_id, owner_user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX accounts_owner ON accounts (owner_user_id);

CREATE TABLE account_tenants (
    account_id     UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    associated_at  BIGINT NOT NULL,
    associated_by  UUID,
    PRIMARY KEY (account_id, tenant_id)
);
CREATE INDEX account_tenants_tenant ON account_tenants (tenant_id);

-- Removing a tenant from an account removes every grant of its principals (R3): the foreign
-- key to the association cascades.
CREATE TABLE account_members (
    account_id      UUID NOT NULL,
    tenant_id       UUID NOT NULL,
    principal_type  TEXT NOT NULL CHECK (principal_type IN ('user', 'group', 'application')),
    principal_id    UUID NOT NULL,
    grant_json      TEXT NOT NULL,
    added_by        UUID,
    added_at        BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, principal_type, principal_id),
    FOREIGN KEY (account_id, tenant_id) REFERENCES account_tenants (account_id, tenant_id) ON DELETE CASCADE
);
CREATE INDEX account_members_principal ON account_members (principal_id);

CREATE TABLE products (
    id          UUID PRIMARY KEY NOT NULL,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT products_name_unique UNIQUE (account_id, name_lower)
);

-- Step one of "associate an existing tenant": credentials proved, waiting for Confirm.
CREATE TABLE pending_associations (
    token_hash  BYTEA PRIMARY KEY NOT NULL,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    proved_by   UUID NOT NULL,
    created_by  UUID NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE activity (
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    principal_type  TEXT NOT NULL,
    principal_id    UUID NOT NULL,
    at              BIGINT NOT NULL,
    method          TEXT NOT NULL,
    route           TEXT NOT NULL
);
CREATE INDEX activity_principal_at ON activity (account_id, principal_id, at);
CREATE INDEX activity_at ON activity (at);

ALTER TABLE audit_events ADD COLUMN account_id UUID;
CREATE INDEX audit_events_account_at ON audit_events (account_id, at);
