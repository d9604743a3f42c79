INSERT INTO block_entries (list, kind, value, reason, added_by, run_id, added, expires)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
RETURNING id
