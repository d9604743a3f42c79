SELECT id, object_type, name, attack_id, modified, revoked, tlp, body
FROM objects
WHERE source_ref = $1
ORDER BY id
