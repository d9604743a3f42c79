SELECT id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason FROM block_entries
WHERE (?1 IS NULL OR list = ?1)
  AND (?2 IS NULL OR (kind = ?2 AND value = ?3))
  AND (?4 IS NULL OR run_id = ?4)
  AND (?5 IS NULL OR added_by = ?5)
  AND (?6 IS NULL OR added >= ?6)
  AND (?7 IS NULL OR (removed IS NULL AND (expires IS NULL OR expires > ?7)))
  AND id > ?8
ORDER BY id
LIMIT ?9
