INSERT INTO imports (source, started) VALUES ($1, $2) RETURNING id
