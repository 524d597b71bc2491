-- Multi-factor sign-in (RFC 6238 TOTP): one authenticator per user, its single-use recovery
-- codes (SHA-256), and the tenant policy. `last_step` is the last time step accepted, so a
-- code is spent by one conditional UPDATE (replay refused). Authorization codes and refresh
-- tokens carry how the user signed in (`amr`, space-separated) into the tokens.
-- Kept in lockstep with ../sqlite/0010_mfa.sql.
CREATE TABLE mfa_totp (
    user_id       UUID PRIMARY KEY NOT NULL,
    tenant_id     UUID NOT NULL,
    secret        BYTEA NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE mfa_recovery_codes (
    user_id    UUID NOT NULL,
    tenant_id  UUID NOT NULL,
    code_hash  BYTEA NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE mfa_policies (
    tenant_id                UUID PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    require_global_admins    BOOLEAN NOT NULL
);

ALTER TABLE auth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
