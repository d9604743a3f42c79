-- Entries whose expiry has passed leave their list, as removed by rampart.
UPDATE block_entries SET removed = $1, removed_by = 'rampart', removed_reason = 'expired'
WHERE removed IS NULL AND expires IS NOT NULL AND expires <= $1
RETURNING id, list, kind, value, reason, added_by, run_id, added, expires, removed, removed_by, removed_reason
