-- New indicators with ids taken from the sequence; an indicator that exists (another
-- transaction inserted it first) is skipped, and the importer looks the batch up again.
INSERT INTO indicators (id, kind, value, first_seen, suppressed, change_id)
SELECT *, $6::bigint FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[])
ON CONFLICT (kind, value_hash) DO NOTHING
