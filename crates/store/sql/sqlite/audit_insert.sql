INSERT INTO audit_log (at, actor, action, target, detail, outcome)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
