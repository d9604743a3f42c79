INSERT INTO allowlist (value, reason, added) VALUES (?1, ?2, ?3)
ON CONFLICT (value) DO UPDATE SET reason = excluded.reason, added = excluded.added
