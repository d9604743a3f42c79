-- The newest open case of a campaign.
SELECT id, title, description, severity, tlp, pap, status, duplicate_of, assignee, tags, techniques,
       campaign, created, updated, closed, due, resolution, created_by
FROM cases
WHERE campaign = $1 AND status IN ('new', 'in_progress')
ORDER BY id DESC
LIMIT 1
