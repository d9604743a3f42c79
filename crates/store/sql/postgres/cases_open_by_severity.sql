SELECT severity AS label, COUNT(*) AS count FROM cases
WHERE status IN ('new', 'in_progress')
GROUP BY severity
ORDER BY severity DESC
