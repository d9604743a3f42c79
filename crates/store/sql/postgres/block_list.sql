SELECT id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason FROM block_entries
WHERE ($1::text IS NULL OR list = $1)
  AND ($2::text IS NULL OR (kind = $2 AND value_hash = rampart_value_hash($3) AND value = $3))
  AND ($4::bigint IS NULL OR run_id = $4)
  AND ($5::text IS NULL OR added_by = $5)
  AND ($6::bigint IS NULL OR added >= $6)
  AND ($7::bigint IS NULL OR (removed IS NULL AND (expires IS NULL OR expires > $7)))
  AND id > $8
ORDER BY id
LIMIT $9
