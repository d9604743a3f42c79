UPDATE playbook_runs
SET status = ?2, step = ?3, state = ?4, updated = ?5, wake = ?6, error = ?7,
    finished = CASE WHEN ?2 IN ('succeeded', 'failed', 'cancelled') THEN ?5 ELSE NULL END
WHERE id = ?1
RETURNING id, playbook, digest, trigger, dry_run, status, step, state, started, updated, finished, wake, error
