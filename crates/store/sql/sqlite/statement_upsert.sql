-- Statements with their final values (merged by the importer); withdrawn_at is cleared because
-- the source lists the indicator again. Plain rows leave out the rarely set fields.
-- row: (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)
-- row plain: (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL, NULL, NULL, NULL, ?)
INSERT OR FAIL INTO statements (indicator_id, source, first_seen, last_seen, confidence, tlp, labels, techniques,
                        threats, reference, valid_until, revoked, withdrawn_at, direction, port, pattern,
                        import_id)
VALUES {rows}
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
