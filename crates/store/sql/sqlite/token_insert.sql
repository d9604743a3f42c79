INSERT INTO api_tokens (hash, name, user_id, role, created, expires)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
RETURNING id
