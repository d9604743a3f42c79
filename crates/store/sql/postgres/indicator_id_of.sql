SELECT id FROM indicators WHERE kind = $1 AND value_hash = rampart_value_hash($2) AND value = $2
