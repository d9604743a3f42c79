SELECT t.id, t.name, t.user_id AS owner_id, u.username AS owner, u.role AS owner_role,
       u.disabled AS owner_disabled, t.role, t.created, t.expires, t.last_used, t.revoked
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE (?1 IS NULL OR t.user_id = ?1)
ORDER BY t.id
