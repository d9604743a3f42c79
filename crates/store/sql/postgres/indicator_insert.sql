-- New indicators with ids taken from the sequence; a row another transaction inserted first
-- is skipped and missing from the returned ids.
INSERT INTO indicators (id, kind, value, first_seen, suppressed)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[])
ON CONFLICT (kind, value_hash) DO NOTHING
RETURNING id
