-- Issue 16. Kept in lockstep with ../postgres/0009_throttling.sql.
--
-- Fixed-window counters for throttling, in the database so that every node behind one
-- PostgreSQL shares them. `scope` names what is counted (failed client authentication per
-- client or per address, failed sign-ins per address, SCIM writes per token, sign-in failures
-- of unknown user names); `key` is the client id, address, token id or name; `window_start` is
-- the window's start in epoch milliseconds. Rows of past windows are purged.
CREATE TABLE throttle (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          INTEGER NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, key, window_start)
);
CREATE INDEX throttle_expires ON throttle (expires_at);

-- Password checks in progress per user (the lockout reservation, see `reserve_sign_in`): a
-- check is granted only while `failed_sign_ins + sign_ins_in_flight` is under the lockout
-- threshold, so concurrent guesses cannot all be evaluated, yet concurrent correct passwords
-- are never counted as failures. `sign_ins_in_flight_until` is a lease (epoch ms): a node that
-- dies mid-check frees its slots when it passes.
ALTER TABLE users ADD COLUMN sign_ins_in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN sign_ins_in_flight_until BIGINT;
