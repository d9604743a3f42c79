SELECT id, username, role, password_hash, created, disabled, last_login FROM users
ORDER BY lower(username)
