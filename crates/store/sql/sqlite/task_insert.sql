INSERT INTO case_tasks (case_id, title, description, assignee, status, due, position, created,
                        updated)
VALUES (?1, ?2, ?3, ?4, 'waiting', ?5, ?6, ?7, ?7)
RETURNING id, case_id, title, description, assignee, status, due, position, created, updated
