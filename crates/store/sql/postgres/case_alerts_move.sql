-- Moves every alert of case $1 to case $2 (a merge).
UPDATE case_alerts SET case_id = $2, linked = $3, linked_by = $4 WHERE case_id = $1
