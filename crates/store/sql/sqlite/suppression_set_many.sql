-- row: (?, ?, ?)
UPDATE indicators SET suppressed = v.column3
FROM (VALUES {rows}) AS v
WHERE indicators.kind = v.column1 AND indicators.value = v.column2
