-- New indicators with ids the importer assigned while holding the write lock.
-- row: (?, ?, ?, ?, ?)
INSERT INTO indicators (id, kind, value, first_seen, suppressed)
VALUES {rows}
