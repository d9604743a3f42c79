INSERT INTO playbook_runs (playbook, digest, trigger, dry_run, status, step, state, started, updated)
VALUES (?1, ?2, ?3, ?4, 'running', 0, ?5, ?6, ?6)
RETURNING id, playbook, digest, trigger, dry_run, status, step, state, started, updated, finished, wake, error
