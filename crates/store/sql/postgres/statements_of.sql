-- The statements on a page of indicators.
SELECT s.indicator_id, s.source, src.reliability, s.first_seen, s.last_seen, s.confidence, s.tlp,
       s.labels, s.techniques, s.threats, s.reference, s.valid_until, s.revoked, s.withdrawn_at,
       s.direction, s.port, s.pattern
FROM statements s
JOIN sources src ON src.name = s.source
WHERE s.indicator_id = ANY($1)
