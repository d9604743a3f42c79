-- Incident cases: the SQLite schema with PostgreSQL types (see the comments there). Observable
-- values are unique per case through their SHA-256, as indicator values are (a long URL does
-- not fit a B-tree entry).

CREATE TABLE cases (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    severity     BIGINT NOT NULL,
    tlp          TEXT NOT NULL,
    pap          TEXT NOT NULL,
    status       TEXT NOT NULL,
    duplicate_of BIGINT,
    assignee     TEXT COLLATE "C",
    tags         TEXT NOT NULL,
    techniques   TEXT NOT NULL,
    campaign     TEXT COLLATE "C",
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    closed       BIGINT,
    due          BIGINT,
    resolution   TEXT,
    created_by   TEXT NOT NULL
);

CREATE INDEX cases_by_status ON cases (status, id);
CREATE INDEX cases_by_campaign ON cases (campaign, id) WHERE campaign IS NOT NULL;
CREATE INDEX cases_by_assignee ON cases (assignee, id) WHERE assignee IS NOT NULL;

CREATE TABLE case_tasks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    assignee    TEXT,
    status      TEXT NOT NULL,
    due         BIGINT,
    position    BIGINT NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL
);

CREATE INDEX case_tasks_by_case ON case_tasks (case_id, position, id);

CREATE TABLE case_observables (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    value_hash   BYTEA NOT NULL GENERATED ALWAYS AS (rampart_value_hash(value)) STORED,
    ioc          BOOLEAN NOT NULL,
    sighted      BOOLEAN NOT NULL,
    tlp          TEXT NOT NULL,
    tags         TEXT NOT NULL,
    message      TEXT,
    indicator_id BIGINT,
    created      BIGINT NOT NULL,
    UNIQUE (case_id, kind, value_hash)
);

CREATE TABLE case_timeline (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    detail  TEXT NOT NULL
);

CREATE INDEX case_timeline_by_case ON case_timeline (case_id, at, id);

CREATE TABLE case_alerts (
    alert_id  BIGINT PRIMARY KEY,
    case_id   BIGINT NOT NULL,
    linked    BIGINT NOT NULL,
    linked_by TEXT NOT NULL
);

CREATE INDEX case_alerts_by_case ON case_alerts (case_id, alert_id);
