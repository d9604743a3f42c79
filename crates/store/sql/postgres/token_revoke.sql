UPDATE api_tokens SET revoked = TRUE WHERE id = $1
