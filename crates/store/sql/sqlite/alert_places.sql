-- The recorded alerts among ?1 (a JSON array of ids) and the case each is in, if any.
SELECT a.id AS alert_id, l.case_id AS case_id
FROM alerts a
LEFT JOIN case_alerts l ON l.alert_id = a.id
WHERE a.id IN (SELECT value FROM json_each(?1))
ORDER BY a.id
