INSERT INTO playbook_actions (run_id, step, action, status, attempts, started, finished, duration_ms, result, error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (run_id, step) DO UPDATE SET
    action = excluded.action, status = excluded.status, attempts = excluded.attempts,
    started = excluded.started, finished = excluded.finished, duration_ms = excluded.duration_ms,
    result = excluded.result, error = excluded.error
