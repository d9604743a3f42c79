SELECT id, case_id, at, actor, kind, message, detail
FROM case_timeline WHERE case_id = ?1
ORDER BY at, id
