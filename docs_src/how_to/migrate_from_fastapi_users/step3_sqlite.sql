-- SQLite, step 3: add the indexes
CREATE UNIQUE INDEX ix_user_email_key ON "user" (email_key);
CREATE INDEX ix_user_email_skeleton ON "user" (email_skeleton);
