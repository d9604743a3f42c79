SELECT id, object_type, name, attack_id, modified, revoked, tlp, body FROM objects WHERE id = ?1
