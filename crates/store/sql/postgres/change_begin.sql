-- Opens a change; $1: what changes (import, suppression, source).
INSERT INTO changes (what) VALUES ($1) RETURNING id
