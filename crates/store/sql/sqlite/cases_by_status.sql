SELECT status AS label, COUNT(*) AS count FROM cases GROUP BY status
