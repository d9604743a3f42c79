SELECT first_seen / 86400000000 AS day, kind AS label, COUNT(*) AS count
FROM indicators
WHERE first_seen >= ?1
GROUP BY day, label
ORDER BY day, label
