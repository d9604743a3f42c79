SELECT id, last_seen, count, body FROM alerts
WHERE ($1::BIGINT IS NULL OR last_seen >= $1)
  AND severity >= $2
  AND ($3::BOOLEAN IS NULL OR retro = $3)
  AND id > $4
ORDER BY id
LIMIT $5
