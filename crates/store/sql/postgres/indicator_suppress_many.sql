UPDATE indicators SET suppressed = v.reason
FROM unnest($1::bigint[], $2::text[]) AS v(id, reason)
WHERE indicators.id = v.id
