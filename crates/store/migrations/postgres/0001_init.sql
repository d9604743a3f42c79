-- Rampart's schema on PostgreSQL: the SQLite schema with PostgreSQL types. Timestamps are
-- microseconds since the Unix epoch (BIGINT) and lists are JSON text, exactly as on SQLite, so
-- that both backends share one row mapping. Every integer is BIGINT (decoded as i64), and
-- ordered text keys sort bytewise (COLLATE "C"), as SQLite does.

CREATE TABLE sources (
    name                 TEXT COLLATE "C" PRIMARY KEY,
    format               TEXT NOT NULL,
    reliability          TEXT NOT NULL,
    default_confidence   BIGINT NOT NULL,
    default_tlp          TEXT NOT NULL,
    full_list            BOOLEAN NOT NULL,
    settings             TEXT NOT NULL,
    last_attempt         BIGINT,
    last_success         BIGINT,
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_summary         TEXT
);

CREATE TABLE cursors (
    source TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (source, key)
);

-- A B-tree entry holds at most 2704 bytes and a long URL is longer, so uniqueness is on a
-- SHA-256 of the value; every lookup also compares the value itself.
CREATE FUNCTION rampart_value_hash(value TEXT) RETURNS BYTEA
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT sha256(convert_to(value, 'UTF8')) $$;

CREATE TABLE indicators (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    value_hash BYTEA NOT NULL GENERATED ALWAYS AS (rampart_value_hash(value)) STORED,
    first_seen BIGINT NOT NULL,
    suppressed TEXT,
    change_id  BIGINT NOT NULL,
    UNIQUE (kind, value_hash));

CREATE INDEX indicators_suppressed ON indicators (id) WHERE suppressed IS NOT NULL;

-- The change feed, as on SQLite. `seq` is assigned at commit time under a transaction-level
-- advisory lock, so concurrent writers get sequence numbers in commit order.
CREATE INDEX indicators_by_change ON indicators (change_id, id);

CREATE TABLE changes (
    id        BIGSERIAL PRIMARY KEY,
    what      TEXT NOT NULL,
    seq       BIGINT,
    committed BIGINT
);

CREATE UNIQUE INDEX changes_by_seq ON changes (seq) WHERE seq IS NOT NULL;

CREATE TABLE statements (
    indicator_id BIGINT NOT NULL,
    source       TEXT COLLATE "C" NOT NULL,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    confidence   BIGINT NOT NULL,
    tlp          TEXT NOT NULL,
    labels       TEXT NOT NULL,
    techniques   TEXT NOT NULL,
    threats      TEXT NOT NULL,
    reference    TEXT NOT NULL,
    valid_until  BIGINT,
    revoked      BOOLEAN NOT NULL,
    withdrawn_at BIGINT,
    direction    TEXT,
    port         BIGINT,
    pattern      TEXT,
    import_id    BIGINT NOT NULL,
    PRIMARY KEY (indicator_id, source)
);

CREATE INDEX statements_by_source ON statements (source, indicator_id);

CREATE TABLE objects (
    id                TEXT COLLATE "C" PRIMARY KEY,
    object_type       TEXT NOT NULL,
    name              TEXT,
    attack_id         TEXT,
    modified          BIGINT,
    revoked           BOOLEAN NOT NULL,
    tlp               TEXT,
    source            TEXT NOT NULL,
    body              TEXT NOT NULL,
    source_ref        TEXT,
    target_ref        TEXT,
    relationship_type TEXT
);

CREATE INDEX objects_by_type ON objects (object_type, id);
CREATE INDEX objects_by_source_ref ON objects (source_ref) WHERE source_ref IS NOT NULL;

CREATE TABLE allowlist (
    value  TEXT COLLATE "C" PRIMARY KEY,
    reason TEXT NOT NULL,
    added  BIGINT NOT NULL
);

CREATE TABLE assets (
    name        TEXT COLLATE "C" PRIMARY KEY,
    kind        TEXT NOT NULL,
    owner       TEXT,
    criticality BIGINT NOT NULL,
    tags        TEXT NOT NULL,
    networks    TEXT NOT NULL,
    hostnames   TEXT NOT NULL,
    domains     TEXT NOT NULL
);

CREATE TABLE imports (
    id       BIGSERIAL PRIMARY KEY,
    source   TEXT NOT NULL,
    started  BIGINT NOT NULL,
    finished BIGINT,
    summary  TEXT
);

-- Alerts from detection, one row per raised alert: repeats within the suppression window
-- raise its count and last_seen; the same key raised again after the window is a new row.
CREATE TABLE alerts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        TEXT COLLATE "C" NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    severity   BIGINT NOT NULL,                -- 0 informational … 4 critical
    retro      BOOLEAN NOT NULL,
    body       TEXT NOT NULL,                   -- JSON Alert
    UNIQUE (key, first_seen)
);

CREATE INDEX alerts_by_last_seen ON alerts (last_seen);
