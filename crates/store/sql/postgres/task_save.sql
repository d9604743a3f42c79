UPDATE case_tasks SET title = $2, description = $3, assignee = $4, status = $5, due = $6,
    position = $7, updated = $8
WHERE id = $1
