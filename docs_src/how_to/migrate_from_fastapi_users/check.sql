-- After a login: which hashes the kit has upgraded (bcrypt-sha256$...)
SELECT email, substr(hashed_password, 1, 14) AS hash_prefix FROM "user" ORDER BY email;
