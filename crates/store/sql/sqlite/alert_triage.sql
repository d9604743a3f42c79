UPDATE alerts SET status = ?2, triaged_by = ?3, triaged_at = ?4, triage_note = ?5
WHERE id = ?1
RETURNING id, last_seen, count, body, status, triaged_by, triaged_at, triage_note
