-- row: (?, ?)
UPDATE indicators SET suppressed = v.column2
FROM (VALUES {rows}) AS v
WHERE indicators.id = v.column1
