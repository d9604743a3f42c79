SELECT severity AS label, COUNT(*) AS count FROM alerts
WHERE ($1::BIGINT IS NULL OR last_seen >= $1)
GROUP BY severity
ORDER BY severity DESC
