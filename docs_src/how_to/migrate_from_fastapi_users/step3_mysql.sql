-- MariaDB / MySQL, step 3: make the columns required, add their indexes
ALTER TABLE `user` MODIFY email_key VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE `user` MODIFY email_skeleton VARCHAR(64) NOT NULL;
CREATE UNIQUE INDEX ix_user_email_key ON `user` (email_key);
CREATE INDEX ix_user_email_skeleton ON `user` (email_skeleton);
