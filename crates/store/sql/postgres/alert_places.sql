-- The recorded alerts among $1 (a JSON array of ids) and the case each is in, if any. The
-- alerts stay locked until the transaction ends, so that two cases never take one alert at once.
SELECT a.id AS alert_id, l.case_id AS case_id
FROM alerts a
LEFT JOIN case_alerts l ON l.alert_id = a.id
WHERE a.id IN (SELECT value::BIGINT FROM jsonb_array_elements_text($1::jsonb))
ORDER BY a.id
FOR UPDATE OF a
