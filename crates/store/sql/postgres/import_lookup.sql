-- The existing indicators among (kinds[i], values[i]), with the importing source's statement
-- on each; position is i - 1.
SELECT (v.position - 1) AS position, i.id, i.suppressed,
       s.first_seen AS statement_first_seen,
       s.last_seen AS statement_last_seen,
       s.import_id AS statement_import_id,
       CASE WHEN s.import_id = $4 THEN s.labels END AS statement_labels,
       CASE WHEN s.import_id = $4 THEN s.techniques END AS statement_techniques,
       CASE WHEN s.import_id = $4 THEN s.threats END AS statement_threats
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(kind, value, position)
JOIN indicators i
  ON i.kind = v.kind AND i.value_hash = rampart_value_hash(v.value) AND i.value = v.value
LEFT JOIN statements s ON s.indicator_id = i.id AND s.source = $3
