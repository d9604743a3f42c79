-- One page of the indicators a source makes statements about, driven by the source's index.
SELECT i.id, i.kind, i.value, i.first_seen, i.suppressed
FROM statements s
JOIN indicators i ON i.id = s.indicator_id
WHERE s.source = $1
  AND s.indicator_id > $2
  AND ($3::text IS NULL OR strpos(lower(i.value), $3) > 0)
  AND ($4::text IS NULL OR i.kind = $4)
ORDER BY s.indicator_id
LIMIT $5
