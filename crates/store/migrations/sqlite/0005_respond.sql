-- The respond stage: block-list entries, each list's revision, and playbook runs with their
-- actions. Nothing here is deleted by Rampart itself: a removed block keeps its row with who
-- removed it and why, so that every automated block can be traced and rolled back.

CREATE TABLE block_entries (
    id             INTEGER PRIMARY KEY,
    list           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    added_by       TEXT NOT NULL,              -- actor, as in the audit log (playbook:NAME, a user)
    run_id         INTEGER,                    -- the playbook run that added it, if any
    added          INTEGER NOT NULL,
    expires        INTEGER,                    -- NULL: until removed
    removed        INTEGER,                    -- NULL while it stands
    removed_by     TEXT,
    removed_reason TEXT
);

-- At most one standing entry per value and list; removed ones are history.
CREATE UNIQUE INDEX block_entries_standing ON block_entries (list, kind, value) WHERE removed IS NULL;
CREATE INDEX block_entries_by_value ON block_entries (kind, value);
CREATE INDEX block_entries_by_run ON block_entries (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX block_entries_expiring ON block_entries (expires) WHERE removed IS NULL AND expires IS NOT NULL;

-- One row per list that ever changed: its revision grows with every change (the RPZ serial).
CREATE TABLE block_lists (
    name     TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    updated  INTEGER NOT NULL
);

CREATE TABLE playbook_runs (
    id        INTEGER PRIMARY KEY,
    playbook  TEXT NOT NULL,
    digest    TEXT NOT NULL,                   -- which version of the playbook file ran
    trigger   TEXT NOT NULL,                   -- JSON: what started it
    dry_run   INTEGER NOT NULL,
    status    TEXT NOT NULL,                   -- running, waiting, retrying, succeeded, failed, cancelled
    step      INTEGER NOT NULL,                -- the next action to run
    state     TEXT NOT NULL,                   -- JSON: the run's variables, carried across restarts
    started   INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    finished  INTEGER,
    wake      INTEGER,                         -- when a waiting or retrying run is next due
    error     TEXT
);

CREATE INDEX playbook_runs_unfinished ON playbook_runs (status, id) WHERE finished IS NULL;
CREATE INDEX playbook_runs_by_playbook ON playbook_runs (playbook, id);

CREATE TABLE playbook_actions (
    run_id      INTEGER NOT NULL,
    step        INTEGER NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,                 -- succeeded, failed, retrying, waiting, skipped, planned
    attempts    INTEGER NOT NULL,
    started     INTEGER NOT NULL,
    finished    INTEGER,
    duration_ms INTEGER NOT NULL,
    result      TEXT NOT NULL,                 -- JSON
    error       TEXT,
    PRIMARY KEY (run_id, step)
);
