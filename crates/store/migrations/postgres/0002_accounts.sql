-- Accounts, API tokens, UI sessions and the audit log: the SQLite schema with PostgreSQL types
-- (see the comments there). Usernames are unique ignoring case through an index on lower().

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created       BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    last_login    BIGINT
);

CREATE UNIQUE INDEX users_by_name ON users (lower(username));

CREATE TABLE api_tokens (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash      TEXT COLLATE "C" NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    user_id   BIGINT NOT NULL,
    role      TEXT NOT NULL,
    created   BIGINT NOT NULL,
    expires   BIGINT,
    last_used BIGINT,
    revoked   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE sessions (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    created    BIGINT NOT NULL,
    expires    BIGINT NOT NULL,
    csrf_token TEXT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT COLLATE "C" NOT NULL,
    action  TEXT COLLATE "C" NOT NULL,
    target  TEXT,
    detail  TEXT NOT NULL,
    outcome TEXT NOT NULL
);

CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

CREATE FUNCTION rampart_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION rampart_audit_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION rampart_audit_append_only();
