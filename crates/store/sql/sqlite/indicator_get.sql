SELECT id, kind, value, first_seen, suppressed FROM indicators WHERE kind = ?1 AND value = ?2
