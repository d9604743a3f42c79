INSERT INTO cursors (source, key, value)
SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM sources WHERE name = ?1)
ON CONFLICT (source, key) DO UPDATE SET value = excluded.value
