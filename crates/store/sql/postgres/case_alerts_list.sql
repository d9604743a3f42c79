-- The recorded alerts of a case with their links (links of pruned alerts are skipped).
SELECT l.case_id, l.alert_id, l.linked, l.linked_by,
       a.id, a.last_seen, a.count, a.body, a.status, a.triaged_by, a.triaged_at, a.triage_note
FROM case_alerts l
JOIN alerts a ON a.id = l.alert_id
WHERE l.case_id = $1
ORDER BY a.id
