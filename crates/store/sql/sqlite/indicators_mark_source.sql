-- Points every indicator a source makes a statement about at change ?1 (source removed or
-- regraded: their scores change).
UPDATE indicators SET change_id = ?1
WHERE id IN (SELECT indicator_id FROM statements WHERE source = ?2)
