DELETE FROM statements WHERE source = ?1
