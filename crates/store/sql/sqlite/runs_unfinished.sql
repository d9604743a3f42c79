SELECT id, playbook, digest, trigger, dry_run, status, step, state, started, updated, finished, wake, error FROM playbook_runs WHERE finished IS NULL ORDER BY id
