SELECT id, expires FROM block_entries
WHERE list = ?1 AND kind = ?2 AND value = ?3 AND removed IS NULL
