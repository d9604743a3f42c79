-- One page of indicators in id order. $2: lowercase substring or NULL, $3: kind or NULL.
SELECT id, kind, value, first_seen, suppressed
FROM indicators
WHERE id > $1
  AND ($2::text IS NULL OR strpos(lower(value), $2) > 0)
  AND ($3::text IS NULL OR kind = $3)
ORDER BY id
LIMIT $4
