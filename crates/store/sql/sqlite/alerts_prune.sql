-- Alerts last seen before a moment (retention).
DELETE FROM alerts WHERE last_seen < ?1
