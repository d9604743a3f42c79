UPDATE sources
SET last_attempt = ?2, last_success = ?2, last_summary = ?3, consecutive_failures = 0
WHERE name = ?1
