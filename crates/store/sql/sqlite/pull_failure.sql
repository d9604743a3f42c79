UPDATE sources
SET last_attempt = ?2, last_error = ?3, consecutive_failures = consecutive_failures + 1
WHERE name = ?1
