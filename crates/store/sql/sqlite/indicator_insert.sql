-- New indicators with ids the importer assigned while holding the write lock. An indicator
-- that exists is skipped (its id goes unused); the importer then looks the chunk up.
-- Row: id, kind, value, first_seen, suppressed (NULL in plain rows), change id.
-- row: (?, ?, ?, ?, ?, ?)
-- row plain: (?, ?, ?, ?, NULL, ?)
INSERT OR FAIL INTO indicators (id, kind, value, first_seen, suppressed, change_id)
VALUES {rows}
ON CONFLICT (kind, value) DO NOTHING
