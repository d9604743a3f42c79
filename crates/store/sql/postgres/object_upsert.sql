-- A stored object is replaced unless it is newer: an object without `modified` never replaces
-- one with it.
INSERT INTO objects (id, object_type, name, attack_id, modified, revoked, tlp, source, body, source_ref,
                     target_ref, relationship_type)
SELECT v.id, v.object_type, v.name, v.attack_id, v.modified, v.revoked, v.tlp, $12, v.body, v.source_ref,
       v.target_ref, v.relationship_type
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::text[])
     AS v(id, object_type, name, attack_id, modified, revoked, tlp, body, source_ref, target_ref,
          relationship_type)
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
