-- case_list, newest first: $8 is the smallest id of the previous page.
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
  AND id < $8
ORDER BY id DESC
LIMIT $9
