-- The last change committed at or before a time (?1, µs): the change feed read from it
-- returns the changes committed after that time.
SELECT coalesce(max(seq), 0) FROM changes WHERE seq IS NOT NULL AND committed <= ?1
