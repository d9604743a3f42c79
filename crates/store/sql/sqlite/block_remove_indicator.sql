UPDATE block_entries SET removed = ?3, removed_by = ?4, removed_reason = ?5
WHERE kind = ?1 AND value = ?2 AND removed IS NULL
RETURNING id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason
