-- One page of indicators in id order. ?2: lowercase substring or NULL, ?3: kind or NULL.
SELECT id, kind, value, first_seen, suppressed
FROM indicators
WHERE id > ?1
  AND (?2 IS NULL OR instr(lower(value), ?2) > 0)
  AND (?3 IS NULL OR kind = ?3)
ORDER BY id
LIMIT ?4
