-- The directory query model compares these attributes case-insensitively: each gets a lowered
-- copy, written by the store with the same function as the other *_lower columns, and an index
-- for equality and prefix ranges (COLLATE "C": ranges by code point, as on SQLite).
ALTER TABLE users ADD COLUMN given_name_lower TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN surname_lower TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN mail_lower TEXT COLLATE "C";
UPDATE users SET given_name_lower = lower(given_name), surname_lower = lower(surname), mail_lower = lower(mail);
CREATE INDEX users_given_name_lower ON users (tenant_id, given_name_lower);
CREATE INDEX users_surname_lower ON users (tenant_id, surname_lower);
CREATE INDEX users_mail_lower ON users (tenant_id, mail_lower);
