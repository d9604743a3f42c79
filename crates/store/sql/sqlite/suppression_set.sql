UPDATE indicators SET suppressed = ?3 WHERE kind = ?1 AND value = ?2
