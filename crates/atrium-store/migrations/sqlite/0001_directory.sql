-- Directory core: tenants, users, groups, sessions, settings and the audit log.
-- Kept in lockstep with ../postgres/0001_directory.sql: same tables, columns and constraints.
-- Timestamps are epoch milliseconds (BIGINT) so that they sort numerically.

CREATE TABLE tenants (
    id                  BLOB PRIMARY KEY NOT NULL,
    display_name        TEXT NOT NULL,
    display_name_lower  TEXT NOT NULL,
    domain              TEXT NOT NULL UNIQUE,
    contact_email       TEXT,
    directory_sync      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX tenants_display_name_lower ON tenants (display_name_lower);

CREATE TABLE users (
    id                    BLOB PRIMARY KEY NOT NULL,
    tenant_id             BLOB NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    upn                   TEXT NOT NULL,
    upn_lower             TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    display_name_lower    TEXT NOT NULL,
    given_name            TEXT,
    surname               TEXT,
    mail                  TEXT,
    user_type             TEXT NOT NULL CHECK (user_type IN ('Member', 'Guest')),
    enabled               BOOLEAN NOT NULL,
    password_hash         TEXT,
    must_change_password  BOOLEAN NOT NULL,
    recovery_email        TEXT,
    global_admin          BOOLEAN NOT NULL,
    failed_sign_ins       INTEGER NOT NULL DEFAULT 0,
    locked_until          BIGINT,
    last_sign_in          BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CONSTRAINT users_upn_unique UNIQUE (tenant_id, upn_lower),
    CONSTRAINT users_tenant_id_unique UNIQUE (tenant_id, id)
);
CREATE INDEX users_display_name_lower ON users (tenant_id, display_name_lower);

CREATE TABLE directory_groups (
    id           BLOB PRIMARY KEY NOT NULL,
    tenant_id    BLOB NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_lower   TEXT NOT NULL,
    description  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT groups_name_unique UNIQUE (tenant_id, name_lower),
    CONSTRAINT groups_tenant_id_unique UNIQUE (tenant_id, id)
);

-- The composite foreign keys keep a member in its group's tenant.
CREATE TABLE group_members (
    tenant_id  BLOB NOT NULL,
    group_id   BLOB NOT NULL,
    user_id    BLOB NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES directory_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE sessions (
    id          BLOB PRIMARY KEY NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     BLOB NOT NULL,
    tenant_id   BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);

-- Append-only; no foreign keys, so events outlive what they describe.
CREATE TABLE audit_events (
    id               BLOB PRIMARY KEY NOT NULL,
    at               BIGINT NOT NULL,
    actor_user_id    BLOB,
    actor_tenant_id  BLOB,
    action           TEXT NOT NULL,
    target_type      TEXT NOT NULL,
    target_id        TEXT NOT NULL,
    tenant_id        BLOB,
    details          TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at);
