UPDATE cases SET updated = GREATEST(updated, $2) WHERE id = $1
