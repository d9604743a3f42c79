UPDATE sources SET reliability = $2 WHERE name = $1
