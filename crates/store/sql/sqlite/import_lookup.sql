-- The existing indicators of a chunk of (kind, value) keys, with the importing source's
-- statement on each, as one JSON array of rows: one value to hand over instead of a row each.
-- Each element: [position, id, suppressed, first_seen, last_seen, import_id, labels, techniques,
-- threats, confidence, tlp, valid_until, revoked, withdrawn_at, direction, port, pattern], the
-- fields of `Found` in order; the statement's content tells an updated renewal from an
-- unchanged one. Empty lists (most rows) come as null, to spare the transfer and the parse.
-- Binds: the rows, then the source.
-- row: ({index}, ?, ?)
SELECT json_group_array(json_array(
           v.column1, i.id, i.suppressed, s.first_seen, s.last_seen, s.import_id,
           NULLIF(s.labels, '[]'), NULLIF(s.techniques, '[]'), NULLIF(s.threats, '[]'),
           s.confidence, s.tlp, s.valid_until, s.revoked, s.withdrawn_at, s.direction, s.port,
           s.pattern))
FROM (VALUES {rows}) AS v
JOIN indicators i ON i.kind = v.column2 AND i.value = v.column3
LEFT JOIN statements s ON s.indicator_id = i.id AND s.source = ?
