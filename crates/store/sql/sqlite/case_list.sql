-- One page of cases. ?1: ',status,…,' or '' for any; ?2: open only; ?3 assignee; ?4 minimum
-- severity rank; ?5 tag; ?6 campaign; ?7 lowercase text or NULL; ?8 the last id of the previous
-- page; ?9 page size.
SELECT id, title, description, severity, tlp, pap, status, duplicate_of, assignee, tags, techniques,
       campaign, created, updated, closed, due, resolution, created_by
FROM cases
WHERE (?1 = '' OR instr(?1, ',' || status || ',') > 0)
  AND (?2 = 0 OR status IN ('new', 'in_progress'))
  AND (?3 IS NULL OR assignee = ?3)
  AND severity >= ?4
  AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE json_each.value = ?5))
  AND (?6 IS NULL OR campaign = ?6)
  AND (?7 IS NULL OR instr(lower(title), ?7) > 0 OR instr(lower(description), ?7) > 0)
  AND id > ?8
ORDER BY id
LIMIT ?9
