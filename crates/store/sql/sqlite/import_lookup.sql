-- The existing indicators of a chunk of (kind, value) keys, with the importing source's
-- statement on each. Binds: the import id three times, the rows, then the source.
-- row: ({index}, ?, ?)
SELECT v.column1 AS position, i.id, i.suppressed,
       s.first_seen AS statement_first_seen,
       s.last_seen AS statement_last_seen,
       s.import_id AS statement_import_id,
       CASE WHEN s.import_id = ? THEN s.labels END AS statement_labels,
       CASE WHEN s.import_id = ? THEN s.techniques END AS statement_techniques,
       CASE WHEN s.import_id = ? THEN s.threats END AS statement_threats
FROM (VALUES {rows}) AS v
JOIN indicators i ON i.kind = v.column2 AND i.value = v.column3
LEFT JOIN statements s ON s.indicator_id = i.id AND s.source = ?
