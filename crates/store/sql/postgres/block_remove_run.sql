UPDATE block_entries SET removed = $2, removed_by = $3, removed_reason = $4
WHERE run_id = $1 AND removed IS NULL
RETURNING id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason
