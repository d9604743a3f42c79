SELECT first_seen / 86400000000 AS day, source AS label, COUNT(*) AS count
FROM statements
WHERE first_seen >= ?1
GROUP BY day, label
ORDER BY day, label
