UPDATE users SET disabled = ?2 WHERE username = ?1
RETURNING id
