-- Points indicators at change $1.
UPDATE indicators SET change_id = $1 WHERE id = ANY($2::bigint[])
