INSERT INTO sessions (hash, user_id, created, expires, csrf_token)
VALUES ($1, $2, $3, $4, $5)
