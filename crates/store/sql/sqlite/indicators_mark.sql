-- Points indicators (a JSON array of ids) at change ?1.
UPDATE indicators SET change_id = ?1 WHERE id IN (SELECT value FROM json_each(?2))
