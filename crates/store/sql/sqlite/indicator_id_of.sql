SELECT id FROM indicators WHERE kind = ?1 AND value = ?2
