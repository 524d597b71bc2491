-- Guest invitations (R11) and the transactional mail outbox.
-- Kept in lockstep with ../postgres/0004_invitations.sql.

-- The guest user is deliberately not a foreign key: revoking an invitation deletes the guest,
-- and the invitation row stays as history ("revoked").
CREATE TABLE invitations (
    id              BLOB PRIMARY KEY NOT NULL,
    tenant_id       BLOB NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id      BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL,
    email           TEXT NOT NULL,
    email_lower     TEXT NOT NULL,
    token_hash      BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
    redirect_url    TEXT,
    invited_by      BLOB,
    resend_count    INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    accepted_at     BIGINT,
    CONSTRAINT invitations_token_unique UNIQUE (token_hash)
);
CREATE INDEX invitations_account ON invitations (account_id, created_at);
CREATE INDEX invitations_user ON invitations (user_id);
-- One live invitation per address and tenant.
CREATE UNIQUE INDEX invitations_pending_email ON invitations (tenant_id, email_lower) WHERE status = 'pending';

-- Mail is written in the same transaction as what it announces, and a worker delivers it.
-- `sending` rows carry a lease (locked_until): a node that dies mid-send releases its rows
-- when the lease runs out.
CREATE TABLE mail_outbox (
    id               BLOB PRIMARY KEY NOT NULL,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'dead')),
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
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_invitation ON mail_outbox (invitation_id);
CREATE INDEX mail_outbox_account ON mail_outbox (account_id, created_at);
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
