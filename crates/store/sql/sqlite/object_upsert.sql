-- A stored object is replaced unless it is newer: an object without `modified` never replaces
-- one with it.
-- row: (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
INSERT INTO objects (id, object_type, name, attack_id, modified, revoked, tlp, source, body, source_ref,
                     target_ref, relationship_type)
VALUES {rows}
ON CONFLICT (id) DO UPDATE SET
    object_type = excluded.object_type,
    name = excluded.name,
    attack_id = excluded.attack_id,
    modified = excluded.modified,
    revoked = excluded.revoked,
    tlp = excluded.tlp,
    source = excluded.source,
    body = excluded.body,
    source_ref = excluded.source_ref,
    target_ref = excluded.target_ref,
    relationship_type = excluded.relationship_type
WHERE objects.modified IS NULL OR excluded.modified >= objects.modified
