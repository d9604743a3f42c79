-- $4: the change; an indicator points at it only if its suppression really changes
-- (warninglist refreshes mostly repeat the reasons already set).
UPDATE indicators
SET change_id = CASE WHEN indicators.suppressed IS NOT DISTINCT FROM v.reason
                     THEN indicators.change_id ELSE $4 END,
    suppressed = v.reason
FROM unnest($1::text[], $2::text[], $3::text[]) AS v(kind, value, reason)
WHERE indicators.kind = v.kind AND indicators.value_hash = rampart_value_hash(v.value)
  AND indicators.value = v.value
