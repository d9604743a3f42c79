SELECT id, username, role, password_hash, created, disabled, last_login FROM users
WHERE username = ?1
