UPDATE api_tokens SET revoked = 1 WHERE id = ?1
