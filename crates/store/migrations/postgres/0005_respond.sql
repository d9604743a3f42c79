-- The respond stage (the SQLite schema with PostgreSQL types): block-list entries, each list's revision, and playbook runs with their
-- actions. Nothing here is deleted by Rampart itself: a removed block keeps its row with who
-- removed it and why, so that every automated block can be traced and rolled back.

CREATE TABLE block_entries (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    list           TEXT COLLATE "C" NOT NULL,
    kind           TEXT NOT NULL,
    value          TEXT COLLATE "C" NOT NULL,
    value_hash     BYTEA NOT NULL GENERATED ALWAYS AS (rampart_value_hash(value)) STORED,
    reason         TEXT NOT NULL,
    added_by       TEXT NOT NULL,              -- actor, as in the audit log (playbook:NAME, a user)
    run_id         BIGINT,                    -- the playbook run that added it, if any
    added          BIGINT NOT NULL,
    expires        BIGINT,                    -- NULL: until removed
    removed        BIGINT,                    -- NULL while it stands
    removed_by     TEXT,
    removed_reason TEXT
);

-- At most one standing entry per value and list; removed ones are history. As for indicators,
-- uniqueness is on the value's hash, since a long URL outgrows a B-tree entry.
CREATE UNIQUE INDEX block_entries_standing ON block_entries (list, kind, value_hash) WHERE removed IS NULL;
CREATE INDEX block_entries_by_value ON block_entries (kind, value_hash);
CREATE INDEX block_entries_by_run ON block_entries (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX block_entries_expiring ON block_entries (expires) WHERE removed IS NULL AND expires IS NOT NULL;

-- One row per list that ever changed: its revision grows with every change (the RPZ serial).
CREATE TABLE block_lists (
    name     TEXT COLLATE "C" PRIMARY KEY,
    revision BIGINT NOT NULL,
    updated  BIGINT NOT NULL
);

CREATE TABLE playbook_runs (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    playbook  TEXT NOT NULL,
    digest    TEXT NOT NULL,                   -- which version of the playbook file ran
    trigger   TEXT NOT NULL,                   -- JSON: what started it
    dry_run   BOOLEAN NOT NULL,
    status    TEXT NOT NULL,                   -- running, waiting, retrying, succeeded, failed, cancelled
    step      BIGINT NOT NULL,                -- the next action to run
    state     TEXT NOT NULL,                   -- JSON: the run's variables, carried across restarts
    started   BIGINT NOT NULL,
    updated   BIGINT NOT NULL,
    finished  BIGINT,
    wake      BIGINT,                         -- when a waiting or retrying run is next due
    error     TEXT
);

CREATE INDEX playbook_runs_unfinished ON playbook_runs (status, id) WHERE finished IS NULL;
CREATE INDEX playbook_runs_by_playbook ON playbook_runs (playbook, id);

CREATE TABLE playbook_actions (
    run_id      BIGINT NOT NULL,
    step        BIGINT NOT NULL,
    action      TEXT NOT NULL,
    status      TEXT NOT NULL,                 -- succeeded, failed, retrying, waiting, skipped, planned
    attempts    BIGINT NOT NULL,
    started     BIGINT NOT NULL,
    finished    BIGINT,
    duration_ms BIGINT NOT NULL,
    result      TEXT NOT NULL,                 -- JSON
    error       TEXT,
    PRIMARY KEY (run_id, step)
);
