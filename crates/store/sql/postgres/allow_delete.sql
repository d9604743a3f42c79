DELETE FROM allowlist WHERE value = $1
