INSERT INTO case_timeline (case_id, at, actor, kind, message, detail)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
RETURNING id
