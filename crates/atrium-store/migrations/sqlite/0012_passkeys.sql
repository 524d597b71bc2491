-- Passkeys (WebAuthn): a user's registered credentials, and the state of ceremonies in progress.
-- `credential` is the verifier's serialised record (public key, counter); `credential_id` is
-- unique across the deployment (a discoverable sign-in finds its passkey by it). A ceremony's
-- state is kept here, not in a cookie, so any node can finish it; it is taken once
-- (DELETE ... RETURNING) and purged after `expires_at`.
-- Kept in lockstep with ../postgres/0012_passkeys.sql.
CREATE TABLE passkeys (
    id             BLOB PRIMARY KEY NOT NULL,
    tenant_id      BLOB NOT NULL,
    user_id        BLOB NOT NULL,
    name           TEXT NOT NULL,
    credential_id  BLOB NOT NULL UNIQUE,
    credential     BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

CREATE TABLE passkey_ceremonies (
    id          BLOB PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    tenant_id   BLOB,
    user_id     BLOB,
    state       BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
