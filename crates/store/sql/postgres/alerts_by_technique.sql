SELECT technique.value AS label, COUNT(DISTINCT alerts.id) AS count
FROM alerts
CROSS JOIN LATERAL jsonb_array_elements_text(alerts.body::jsonb -> 'techniques') AS technique(value)
WHERE ($1::BIGINT IS NULL OR alerts.last_seen >= $1)
GROUP BY technique.value
ORDER BY count DESC, label
LIMIT 20
