DELETE FROM sources WHERE name = ?1
