-- Rampart's schema on SQLite. Timestamps are microseconds since the Unix epoch (INTEGER);
-- lists and documents are JSON text. There are no foreign keys: the store is the only writer
-- and keeps the references itself (remove_source deletes its statements and cursors), and a
-- parent lookup per statement row would cost a third of the import budget.

CREATE TABLE sources (
    name                 TEXT PRIMARY KEY NOT NULL,
    format               TEXT NOT NULL,
    reliability          TEXT NOT NULL,          -- Admiralty letter A-F
    default_confidence   INTEGER NOT NULL,
    default_tlp          TEXT NOT NULL,          -- short form: clear, green, amber, amber+strict, red
    full_list            INTEGER NOT NULL,       -- boolean
    settings             TEXT NOT NULL,          -- JSON
    last_attempt         INTEGER,
    last_success         INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_summary         TEXT                    -- JSON ImportSummary
) STRICT;

CREATE TABLE cursors (
    source TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (source, key)
) STRICT, WITHOUT ROWID;

-- One row per (kind, canonical value). Ids are assigned by the importer (max + 1) while it
-- holds the write lock, so new rows need no RETURNING round trip.
CREATE TABLE indicators (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    suppressed TEXT,
    change_id  INTEGER NOT NULL,                -- the change that last touched it (changes.id)
    UNIQUE (kind, value)) STRICT;

CREATE INDEX indicators_suppressed ON indicators (id) WHERE suppressed IS NOT NULL;

-- The change feed (`indicators_changed_since`): the indicators of a change, in id order.
CREATE INDEX indicators_by_change ON indicators (change_id, id);

-- One row per write that changed indicators (an import, a suppression change, a source
-- removed or regraded). The indicators it touched point at it. `seq` is given at commit time,
-- in commit order, so that a reader who has seen change n has seen every change before it;
-- `committed` is the commit time (µs), to measure how long a change takes to be enforced.
CREATE TABLE changes (
    id        INTEGER PRIMARY KEY,
    what      TEXT NOT NULL,                    -- import, suppression, source
    seq       INTEGER,
    committed INTEGER
) STRICT;

CREATE UNIQUE INDEX changes_by_seq ON changes (seq) WHERE seq IS NOT NULL;

-- One source's current statement about one indicator. Clustered on the key so that the
-- statements of a page of indicators are read in one range scan.
CREATE TABLE statements (
    indicator_id INTEGER NOT NULL,
    source       TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    confidence   INTEGER NOT NULL,
    tlp          TEXT NOT NULL,
    labels       TEXT NOT NULL,                  -- JSON array of strings
    techniques   TEXT NOT NULL,                  -- JSON array of ATT&CK ids
    threats      TEXT NOT NULL,                  -- JSON array of strings
    reference    TEXT NOT NULL,
    valid_until  INTEGER,
    revoked      INTEGER NOT NULL,               -- boolean
    withdrawn_at INTEGER,
    direction    TEXT,                           -- source, destination
    port         INTEGER,
    pattern      TEXT,                           -- JSON PatternNote
    import_id    INTEGER NOT NULL,               -- the import that last renewed it
    PRIMARY KEY (indicator_id, source)
) STRICT, WITHOUT ROWID;

-- Per-source work: full-list withdrawal, active counts, search by source.
CREATE INDEX statements_by_source ON statements (source);

-- Context objects kept whole. For relationships, source_ref/target_ref/relationship_type are
-- copied out of the body; for sightings, source_ref holds sighting_of_ref.
CREATE TABLE objects (
    id                TEXT PRIMARY KEY NOT NULL,
    object_type       TEXT NOT NULL,
    name              TEXT,
    attack_id         TEXT,
    modified          INTEGER,
    revoked           INTEGER NOT NULL,
    tlp               TEXT,
    source            TEXT NOT NULL,             -- the source that last wrote it
    body              TEXT NOT NULL,             -- JSON, as received
    source_ref        TEXT,
    target_ref        TEXT,
    relationship_type TEXT
) STRICT;

CREATE INDEX objects_by_type ON objects (object_type, id);
CREATE INDEX objects_by_source_ref ON objects (source_ref) WHERE source_ref IS NOT NULL;

CREATE TABLE allowlist (
    value  TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL,
    added  INTEGER NOT NULL
) STRICT;

CREATE TABLE assets (
    name        TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    owner       TEXT,
    criticality INTEGER NOT NULL,
    tags        TEXT NOT NULL,                   -- JSON arrays
    networks    TEXT NOT NULL,
    hostnames   TEXT NOT NULL,
    domains     TEXT NOT NULL
) STRICT;

CREATE TABLE imports (
    id       INTEGER PRIMARY KEY,
    source   TEXT NOT NULL,
    started  INTEGER NOT NULL,
    finished INTEGER,
    summary  TEXT                                -- JSON ImportSummary
) STRICT;

-- Alerts from detection, one row per raised alert: repeats within the suppression window
-- raise its count and last_seen; the same key raised again after the window is a new row.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    severity   INTEGER NOT NULL,                -- 0 informational … 4 critical
    retro      INTEGER NOT NULL,
    body       TEXT NOT NULL,                   -- JSON Alert
    UNIQUE (key, first_seen)
) STRICT;

CREATE INDEX alerts_by_last_seen ON alerts (last_seen);
