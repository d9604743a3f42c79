SELECT id, username, role, password_hash, created, disabled, last_login FROM users
WHERE lower(username) = lower($1)
