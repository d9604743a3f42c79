-- Alert triage: where each alert stands and the last decision on it. The audit log keeps every
-- decision; the row keeps the latest, so that queues and filters need no join.
ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'open';  -- open, acknowledged, false_positive, closed
ALTER TABLE alerts ADD COLUMN triaged_by TEXT;                      -- actor, as in the audit log
ALTER TABLE alerts ADD COLUMN triaged_at BIGINT;
ALTER TABLE alerts ADD COLUMN triage_note TEXT;

CREATE INDEX alerts_by_status ON alerts (status, id);
