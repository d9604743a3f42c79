UPDATE block_entries SET expires = $2 WHERE id = $1
