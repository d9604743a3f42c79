INSERT INTO alerts (key, first_seen, last_seen, count, severity, retro, body)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (key, first_seen) DO UPDATE SET
    last_seen = GREATEST(alerts.last_seen, excluded.last_seen),
    count = GREATEST(alerts.count, excluded.count),
    severity = excluded.severity,
    body = excluded.body
