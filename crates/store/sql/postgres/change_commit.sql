-- Gives a change its place in the feed, just before its transaction commits, under the
-- change_lock held to the commit: numbers follow commit order even with concurrent writers.
UPDATE changes SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM changes), committed = $2
WHERE id = $1
