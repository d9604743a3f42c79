-- SQLite has one writer: reading in its transaction is enough.
SELECT id, title, description, severity, tlp, pap, status, duplicate_of, assignee, tags, techniques,
       campaign, created, updated, closed, due, resolution, created_by
FROM cases WHERE id = ?1
