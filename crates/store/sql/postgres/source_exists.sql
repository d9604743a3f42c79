SELECT count(*) FROM sources WHERE name = $1
