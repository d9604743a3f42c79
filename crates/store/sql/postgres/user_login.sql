UPDATE users SET last_login = $2 WHERE id = $1
