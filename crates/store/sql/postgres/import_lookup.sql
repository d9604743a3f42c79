-- The existing indicators among (kinds[i], values[i]), with the importing source's statement
-- on each; position is i - 1. The statement's content tells an updated renewal from an
-- unchanged one. Empty lists (most rows) come as null, to spare the transfer and the parse.
SELECT (v.position - 1) AS position, i.id, i.suppressed,
       s.first_seen AS statement_first_seen,
       s.last_seen AS statement_last_seen,
       s.import_id AS statement_import_id,
       NULLIF(s.labels, '[]') AS statement_labels,
       NULLIF(s.techniques, '[]') AS statement_techniques,
       NULLIF(s.threats, '[]') AS statement_threats,
       s.confidence AS statement_confidence,
       s.tlp AS statement_tlp,
       s.valid_until AS statement_valid_until,
       s.revoked AS statement_revoked,
       s.withdrawn_at AS statement_withdrawn_at,
       s.direction AS statement_direction,
       s.port AS statement_port,
       s.pattern AS statement_pattern
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(kind, value, position)
JOIN indicators i
  ON i.kind = v.kind AND i.value_hash = rampart_value_hash(v.value) AND i.value = v.value
LEFT JOIN statements s ON s.indicator_id = i.id AND s.source = $3
