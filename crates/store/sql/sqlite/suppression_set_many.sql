-- Row: kind, value, reason, change; an indicator points at the change only if its suppression
-- really changes (warninglist refreshes mostly repeat the reasons already set).
-- row: (?, ?, ?, ?)
UPDATE indicators
SET change_id = CASE WHEN suppressed IS v.column3 THEN change_id ELSE v.column4 END,
    suppressed = v.column3
FROM (VALUES {rows}) AS v
WHERE indicators.kind = v.column1 AND indicators.value = v.column2
