UPDATE cases SET title = ?2, description = ?3, severity = ?4, tlp = ?5, pap = ?6, status = ?7,
    duplicate_of = ?8, assignee = ?9, tags = ?10, techniques = ?11, campaign = ?12, updated = ?13,
    closed = ?14, due = ?15, resolution = ?16
WHERE id = ?1
