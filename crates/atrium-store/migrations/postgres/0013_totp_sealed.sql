-- TOTP secrets are sealed with the master key (AES-256-GCM, as the signing keys are). Rows
-- written before hold the raw secret (`secret_sealed` false); the server seals them at start
-- and whenever one is used, and reads both forms meanwhile.
-- Kept in lockstep with ../sqlite/0013_totp_sealed.sql.
ALTER TABLE mfa_totp ADD COLUMN secret_sealed BOOLEAN NOT NULL DEFAULT FALSE;
