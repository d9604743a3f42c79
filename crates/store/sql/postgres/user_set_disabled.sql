UPDATE users SET disabled = $2 WHERE lower(username) = lower($1)
RETURNING id
