-- Issue 17. Kept in lockstep with ../postgres/0008_hardening.sql.
--
-- A refresh-token family revoked for reuse (a rotated token or a replayed code presented
-- again). Tokens of the family issued after the revocation, by a request that raced it, are
-- refused too: redemption joins this table instead of trusting each token's own revoked_at.
CREATE TABLE revoked_refresh_families (
    family_id   BLOB PRIMARY KEY NOT NULL,
    revoked_at  BIGINT NOT NULL
);

-- Mail can be cancelled before it is sent (its invitation revoked or replaced, its tenant
-- removed). SQLite cannot alter a CHECK constraint, so the table is rebuilt.
CREATE TABLE mail_outbox_new (
    id               BLOB PRIMARY KEY NOT NULL,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'dead', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    invitation_id    BLOB,
    account_id       BLOB,
    tenant_id        BLOB
);
INSERT INTO mail_outbox_new SELECT id, to_address, subject, body_text, body_html, status, attempts, next_attempt_at, locked_until,
    last_error, created_at, sent_at, invitation_id, account_id, tenant_id FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_new RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_invitation ON mail_outbox (invitation_id);
CREATE INDEX mail_outbox_account ON mail_outbox (account_id, created_at);
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
CREATE INDEX mail_outbox_tenant ON mail_outbox (tenant_id);
