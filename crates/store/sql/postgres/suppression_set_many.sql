UPDATE indicators SET suppressed = v.reason
FROM unnest($1::text[], $2::text[], $3::text[]) AS v(kind, value, reason)
WHERE indicators.kind = v.kind AND indicators.value_hash = rampart_value_hash(v.value)
  AND indicators.value = v.value
