-- One page of cases. $1: ',status,…,' or '' for any; $2: open only; $3 assignee; $4 minimum
-- severity rank; $5 tag; $6 campaign; $7 lowercase text or NULL; $8 the last id of the previous
-- page; $9 page size.
SELECT id, title, description, severity, tlp, pap, status, duplicate_of, assignee, tags, techniques,
       campaign, created, updated, closed, due, resolution, created_by
FROM cases
WHERE ($1 = '' OR strpos($1, ',' || status || ',') > 0)
  AND ($2 = FALSE OR status IN ('new', 'in_progress'))
  AND ($3::TEXT IS NULL OR assignee = $3)
  AND severity >= $4
  AND ($5::TEXT IS NULL OR EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(cases.tags::jsonb) AS tag WHERE tag = $5))
  AND ($6::TEXT IS NULL OR campaign = $6)
  AND ($7::TEXT IS NULL OR strpos(lower(title COLLATE "C"), $7) > 0
       OR strpos(lower(description COLLATE "C"), $7) > 0)
  AND id > $8
ORDER BY id
LIMIT $9
