SELECT id, last_seen, count, body, status, triaged_by, triaged_at, triage_note FROM alerts
WHERE ($1::BIGINT IS NULL OR last_seen >= $1)
  AND severity >= $2
  AND ($3::BOOLEAN IS NULL OR retro = $3)
  AND id > $4
  AND ($6 = '' OR strpos($6, ',' || status || ',') > 0)
ORDER BY id
LIMIT $5
