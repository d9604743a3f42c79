-- Gives a change its place in the feed, just before its transaction commits. SQLite has one
-- writer at a time, so the next number is the commit order.
UPDATE changes SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM changes), committed = ?2
WHERE id = ?1
