-- Identity platform: applications with Reply URLs and client-secret keys, token-signing keys,
-- authorization codes and refresh tokens. Kept in lockstep with ../postgres/0002_identity.sql.

CREATE TABLE applications (
    id                    BLOB PRIMARY KEY NOT NULL,
    client_id             BLOB NOT NULL UNIQUE,
    service_principal_id  BLOB NOT NULL UNIQUE,
    tenant_id             BLOB NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name          TEXT NOT NULL,
    display_name_lower    TEXT NOT NULL,
    app_id_uri            TEXT,
    app_id_uri_lower      TEXT,
    public_client         BOOLEAN NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CONSTRAINT applications_app_id_uri_unique UNIQUE (tenant_id, app_id_uri_lower),
    CONSTRAINT applications_tenant_id_unique UNIQUE (tenant_id, id)
);
CREATE INDEX applications_display_name_lower ON applications (tenant_id, display_name_lower, id);

CREATE TABLE app_reply_urls (
    tenant_id       BLOB NOT NULL,
    application_id  BLOB NOT NULL,
    position        INTEGER NOT NULL,
    url             TEXT NOT NULL,
    url_lower       TEXT NOT NULL,
    PRIMARY KEY (application_id, position),
    CONSTRAINT app_reply_urls_unique UNIQUE (tenant_id, url_lower),
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE app_keys (
    id              BLOB PRIMARY KEY NOT NULL,
    tenant_id       BLOB NOT NULL,
    application_id  BLOB NOT NULL,
    display_name    TEXT,
    hint            TEXT NOT NULL,
    secret_hash     BLOB NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX app_keys_application ON app_keys (application_id);

CREATE TABLE signing_keys (
    kid                    TEXT PRIMARY KEY NOT NULL,
    private_key_encrypted  BLOB NOT NULL,
    certificate_der        BLOB NOT NULL,
    created_at             BIGINT NOT NULL,
    retired_at             BIGINT
);

CREATE TABLE auth_codes (
    code_hash              BLOB PRIMARY KEY NOT NULL,
    tenant_id              BLOB NOT NULL,
    client_id              BLOB NOT NULL,
    user_id                BLOB NOT NULL,
    redirect_uri           TEXT NOT NULL,
    scope                  TEXT NOT NULL,
    nonce                  TEXT,
    code_challenge         TEXT,
    code_challenge_method  TEXT,
    created_at             BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,
    redeemed_at            BIGINT,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE refresh_tokens (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    family_id   BLOB NOT NULL,
    tenant_id   BLOB NOT NULL,
    client_id   BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    scope       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
