-- PostgreSQL, step 3: make the columns required, add their indexes
ALTER TABLE "user" ALTER COLUMN email_key SET NOT NULL;
ALTER TABLE "user" ALTER COLUMN email_skeleton SET NOT NULL;
CREATE UNIQUE INDEX ix_user_email_key ON "user" (email_key);
CREATE INDEX ix_user_email_skeleton ON "user" (email_skeleton);
