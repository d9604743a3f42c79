SELECT id, last_seen, count, body, status, triaged_by, triaged_at, triage_note FROM alerts
WHERE key = $1 AND first_seen = $2
