INSERT INTO users (username, role, password_hash, created)
VALUES ($1, $2, $3, $4)
RETURNING id
