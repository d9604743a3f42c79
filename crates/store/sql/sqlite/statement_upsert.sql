-- Statements with their final values (merged by the importer); withdrawn_at is cleared because
-- the source lists the indicator again. The source and the import id are bound once, last.
-- row: (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
INSERT INTO statements (indicator_id, source, first_seen, last_seen, confidence, tlp, labels, techniques,
                        threats, reference, valid_until, revoked, withdrawn_at, direction, port, pattern,
                        import_id)
SELECT v.column1, p.source, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7,
       v.column8, v.column9, v.column10, v.column11, NULL, v.column12, v.column13, v.column14,
       p.import_id
FROM (VALUES {rows}) AS v, (SELECT ? AS source, ? AS import_id) AS p
WHERE true
ON CONFLICT (indicator_id, source) DO UPDATE SET
    first_seen = excluded.first_seen,
    last_seen = excluded.last_seen,
    confidence = excluded.confidence,
    tlp = excluded.tlp,
    labels = excluded.labels,
    techniques = excluded.techniques,
    threats = excluded.threats,
    reference = excluded.reference,
    valid_until = excluded.valid_until,
    revoked = excluded.revoked,
    withdrawn_at = NULL,
    direction = excluded.direction,
    port = excluded.port,
    pattern = excluded.pattern,
    import_id = excluded.import_id
