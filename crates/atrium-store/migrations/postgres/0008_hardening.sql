-- Issue 17. Kept in lockstep with ../sqlite/0008_hardening.sql.
--
-- A refresh-token family revoked for reuse (a rotated token or a replayed code presented
-- again). Tokens of the family issued after the revocation, by a request that raced it, are
-- refused too: redemption joins this table instead of trusting each token's own revoked_at.
CREATE TABLE revoked_refresh_families (
    family_id   UUID PRIMARY KEY NOT NULL,
    revoked_at  BIGINT NOT NULL
);

-- Mail can be cancelled before it is sent (its invitation revoked or replaced, its tenant
-- removed).
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_status_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_status_check CHECK (status IN ('queued', 'sending', 'sent', 'dead', 'cancelled'));
CREATE INDEX mail_outbox_tenant ON mail_outbox (tenant_id);
