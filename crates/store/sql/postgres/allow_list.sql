SELECT value, reason, added FROM allowlist ORDER BY value
