UPDATE block_entries SET removed = $4, removed_by = $5, removed_reason = $6
WHERE list = $1 AND kind = $2 AND value_hash = rampart_value_hash($3) AND value = $3 AND removed IS NULL
RETURNING id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason
