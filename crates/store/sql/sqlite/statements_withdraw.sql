UPDATE statements SET withdrawn_at = ?1
WHERE source = ?2 AND import_id <> ?3 AND withdrawn_at IS NULL
