-- Statements with their final values (merged by the importer); withdrawn_at is cleared because
-- the source lists the indicator again.
INSERT INTO statements (indicator_id, source, first_seen, last_seen, confidence, tlp, labels, techniques,
                        threats, reference, valid_until, revoked, withdrawn_at, direction, port, pattern,
                        import_id)
SELECT v.indicator_id, $15, v.first_seen, v.last_seen, v.confidence, v.tlp, v.labels, v.techniques,
       v.threats, v.reference, v.valid_until, v.revoked, NULL, v.direction, v.port, v.pattern, $16
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::bigint[], $11::boolean[], $12::text[], $13::bigint[], $14::text[])
     AS v(indicator_id, first_seen, last_seen, confidence, tlp, labels, techniques, threats, reference,
          valid_until, revoked, direction, port, pattern)
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
