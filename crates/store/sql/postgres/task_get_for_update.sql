SELECT id, case_id, title, description, assignee, status, due, position, created, updated
FROM case_tasks WHERE id = $1
FOR UPDATE
