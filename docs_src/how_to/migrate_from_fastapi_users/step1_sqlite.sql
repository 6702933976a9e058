-- SQLite, step 1: convert the ids, add the columns
UPDATE "user" SET id = REPLACE(id, '-', '');
ALTER TABLE "user" ADD COLUMN email_key VARCHAR(320) NOT NULL DEFAULT '';
ALTER TABLE "user" ADD COLUMN email_skeleton VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE "user" ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "user" ADD COLUMN created_at DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE "user" SET created_at = CURRENT_TIMESTAMP;
