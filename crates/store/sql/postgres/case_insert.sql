-- A new case; $10 is both its creation and update time.
INSERT INTO cases (title, description, severity, tlp, pap, status, assignee, tags, techniques,
                   campaign, created, updated, due, created_by)
VALUES ($1, $2, $3, $4, $5, 'new', $6, $7, $8, $9, $10, $10, $11, $12)
RETURNING id
