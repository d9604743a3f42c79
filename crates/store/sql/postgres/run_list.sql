SELECT id, playbook, digest, trigger, dry_run, status, step, state, started, updated, finished, wake, error FROM playbook_runs
WHERE ($1::text IS NULL OR playbook = $1)
  AND ($2 = '' OR strpos($2, ',' || status || ',') > 0)
  AND id < $3
ORDER BY id DESC
LIMIT $4
