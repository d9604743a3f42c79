SELECT id, at, actor, action, target, detail, outcome FROM audit_log
WHERE (?1 IS NULL OR at >= ?1)
  AND (?2 IS NULL OR at < ?2)
  AND (?3 IS NULL OR actor = ?3)
  AND (?4 IS NULL OR action = ?4)
ORDER BY id
LIMIT ?5 OFFSET ?6
