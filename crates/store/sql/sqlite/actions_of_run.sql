SELECT run_id, step, action, status, attempts, started, finished, duration_ms, result, error FROM playbook_actions WHERE run_id = ?1 ORDER BY step
