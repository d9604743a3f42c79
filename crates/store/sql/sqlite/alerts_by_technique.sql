SELECT technique.value AS label, COUNT(DISTINCT alerts.id) AS count
FROM alerts, json_each(alerts.body, '$.techniques') AS technique
WHERE (?1 IS NULL OR alerts.last_seen >= ?1)
GROUP BY technique.value
ORDER BY count DESC, label
LIMIT 20
