-- Samla's schema. The same file runs on SQLite and PostgreSQL, so it uses only TEXT and
-- BIGINT: booleans are 0/1, times are Unix milliseconds, and the application makes every id.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    host TEXT NOT NULL UNIQUE,
    settings_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    oidc_issuer TEXT,
    oidc_subject TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, email),
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    owner_user_id TEXT NOT NULL REFERENCES users (id),
    topic TEXT NOT NULL,
    passcode_hash TEXT,
    waiting_room BIGINT NOT NULL,
    signed_in_only BIGINT NOT NULL,
    start_time_ms BIGINT,
    duration_minutes BIGINT,
    created_at BIGINT NOT NULL,
    -- Deleted meetings keep their row so that their id is never handed out again.
    deleted_at BIGINT
);

CREATE INDEX meetings_owner ON meetings (owner_user_id);

CREATE TABLE chat_messages (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    seq BIGINT NOT NULL,
    from_participant BIGINT NOT NULL,
    from_name TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_participant BIGINT,
    text TEXT NOT NULL,
    sent_at_ms BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, seq)
);

CREATE TABLE attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    participant BIGINT NOT NULL,
    display_name TEXT NOT NULL,
    user_id TEXT,
    event TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);

CREATE INDEX attendance_meeting ON attendance (meeting_id);
