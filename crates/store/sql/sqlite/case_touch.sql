UPDATE cases SET updated = max(updated, ?2) WHERE id = ?1
