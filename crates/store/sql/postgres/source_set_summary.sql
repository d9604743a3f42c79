UPDATE sources SET last_summary = $2 WHERE name = $1
