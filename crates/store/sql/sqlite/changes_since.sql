-- The change feed: indicators touched by committed changes after (?1, ?2) = (seq, last id
-- read within that change), oldest change first, as they are now.
SELECT c.seq AS change_seq, c.committed AS change_committed,
       i.id, i.kind, i.value, i.first_seen, i.suppressed
FROM changes c
JOIN indicators i ON i.change_id = c.id
WHERE c.seq >= ?1 AND (c.seq > ?1 OR i.id > ?2)
ORDER BY c.seq, i.id
LIMIT ?3
