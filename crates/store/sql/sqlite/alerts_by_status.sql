SELECT status AS label, COUNT(*) AS count FROM alerts
WHERE (?1 IS NULL OR last_seen >= ?1)
GROUP BY status
