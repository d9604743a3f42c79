-- Accounts, API tokens, UI sessions and the audit log. As in 0001 there are no foreign keys:
-- users are never deleted (only disabled), so the user ids of tokens and sessions stay valid.

-- Names are unique ignoring ASCII case (they are ASCII by rule); lookups compare the same way.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role          TEXT NOT NULL,                -- admin, analyst, read_only, ingest
    password_hash TEXT NOT NULL,                -- argon2id PHC string
    created       INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,   -- boolean
    last_login    INTEGER
) STRICT;

-- API tokens, kept only as the SHA-256 (hex) of the token shown once to its owner.
CREATE TABLE api_tokens (
    id        INTEGER PRIMARY KEY,
    hash      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    user_id   INTEGER NOT NULL,                 -- the owner (users.id)
    role      TEXT NOT NULL,                    -- within the owner's role when created
    created   INTEGER NOT NULL,
    expires   INTEGER,                          -- none: until revoked
    last_used INTEGER,
    revoked   INTEGER NOT NULL DEFAULT 0        -- boolean
) STRICT;

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Browser sessions, by the SHA-256 (hex) of the session id in the cookie.
CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    csrf_token TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_expiry ON sessions (expires);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Who did what, when, to what, and how it ended. Append-only: the triggers refuse changes and
-- deletions, so that a compromised account cannot quietly edit its own trail (a retention job,
-- when there is one, will have to say so in a migration of its own).
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,                      -- user:NAME, token:NAME, cli:OSUSER, system
    action  TEXT NOT NULL,                      -- e.g. user.create, token.revoke, login
    target  TEXT,
    detail  TEXT NOT NULL,                      -- JSON object
    outcome TEXT NOT NULL                       -- success, failure, denied
) STRICT;

CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
