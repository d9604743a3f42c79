-- Incident cases with their tasks, observables, timeline and linked alerts. As elsewhere there
-- are no foreign keys: the store writes every table of a case in one transaction and keeps the
-- references itself. Severity is stored as its rank (0 informational … 4 critical), like alerts.

CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,                 -- Markdown
    severity     INTEGER NOT NULL,
    tlp          TEXT NOT NULL,                 -- short form, as sources
    pap          TEXT NOT NULL,                 -- clear, green, amber, red
    status       TEXT NOT NULL,                 -- new, in_progress, resolved, false_positive, duplicate
    duplicate_of INTEGER,                       -- cases.id, when status is duplicate
    assignee     TEXT,
    tags         TEXT NOT NULL,                 -- JSON array of strings
    techniques   TEXT NOT NULL,                 -- JSON array of ATT&CK ids
    campaign     TEXT,                          -- grouping key
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    closed       INTEGER,
    due          INTEGER,
    resolution   TEXT,
    created_by   TEXT NOT NULL
) STRICT;

CREATE INDEX cases_by_status ON cases (status, id);
CREATE INDEX cases_by_campaign ON cases (campaign, id) WHERE campaign IS NOT NULL;
CREATE INDEX cases_by_assignee ON cases (assignee, id) WHERE assignee IS NOT NULL;

CREATE TABLE case_tasks (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    assignee    TEXT,
    status      TEXT NOT NULL,                  -- waiting, in_progress, done, cancelled
    due         INTEGER,
    position    INTEGER NOT NULL,               -- order within the case
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL
) STRICT;

CREATE INDEX case_tasks_by_case ON case_tasks (case_id, position, id);

-- One row per (case, kind, canonical value).
CREATE TABLE case_observables (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    ioc          INTEGER NOT NULL,              -- boolean
    sighted      INTEGER NOT NULL,              -- boolean
    tlp          TEXT NOT NULL,
    tags         TEXT NOT NULL,                 -- JSON array of strings
    message      TEXT,
    indicator_id INTEGER,                       -- indicators.id when intel knows the value
    created      INTEGER NOT NULL,
    UNIQUE (case_id, kind, value)
) STRICT;

CREATE TABLE case_timeline (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,                      -- created, status_changed, alert_linked, …
    message TEXT NOT NULL,
    detail  TEXT NOT NULL                       -- JSON object
) STRICT;

CREATE INDEX case_timeline_by_case ON case_timeline (case_id, at, id);

-- An alert belongs to at most one case: the alert id is the key, so moving an alert to another
-- case rewrites its row. Pruning alerts leaves their rows here (the case still records that it
-- had them); the alerts of a case are read through a join, which skips them.
CREATE TABLE case_alerts (
    alert_id  INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL,
    linked    INTEGER NOT NULL,
    linked_by TEXT NOT NULL
) STRICT;

CREATE INDEX case_alerts_by_case ON case_alerts (case_id, alert_id);
