SELECT id, case_id, title, description, assignee, status, due, position, created, updated
FROM case_tasks WHERE case_id = $1
ORDER BY position, id
