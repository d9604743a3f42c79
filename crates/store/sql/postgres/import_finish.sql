UPDATE imports SET finished = $2, summary = $3 WHERE id = $1
