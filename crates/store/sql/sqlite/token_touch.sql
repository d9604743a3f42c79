UPDATE api_tokens SET last_used = ?2
WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2)
