-- Moves a case's tasks ($1) to another case ($2), after its own ($3 added to positions).
UPDATE case_tasks SET case_id = $2, position = position + $3, updated = $4 WHERE case_id = $1
