-- Puts the alerts of ?1 (a JSON array of ids) in case ?2, taking them from any other case.
INSERT INTO case_alerts (alert_id, case_id, linked, linked_by)
SELECT value, ?2, ?3, ?4 FROM json_each(?1) WHERE true
ON CONFLICT (alert_id) DO UPDATE SET
    case_id = excluded.case_id,
    linked = excluded.linked,
    linked_by = excluded.linked_by
