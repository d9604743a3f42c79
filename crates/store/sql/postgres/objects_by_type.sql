SELECT id, object_type, name, attack_id, modified, revoked, tlp, body
FROM objects
WHERE object_type = $1 AND ($2::text IS NULL OR id > $2)
ORDER BY id
LIMIT $3
