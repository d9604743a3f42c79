-- The position after a case's last task.
SELECT COALESCE(MAX(position) + 1, 0)::BIGINT FROM case_tasks WHERE case_id = $1
