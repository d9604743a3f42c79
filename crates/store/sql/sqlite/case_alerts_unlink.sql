-- Takes the alerts of ?2 (a JSON array of ids) out of case ?1.
DELETE FROM case_alerts
WHERE case_id = ?1 AND alert_id IN (SELECT value FROM json_each(?2))
RETURNING alert_id
