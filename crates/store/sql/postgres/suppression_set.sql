-- $4: the change; the indicator points at it only if its suppression really changes.
UPDATE indicators
SET change_id = CASE WHEN suppressed IS NOT DISTINCT FROM $3 THEN change_id ELSE $4 END,
    suppressed = $3
WHERE kind = $1 AND value_hash = rampart_value_hash($2) AND value = $2
