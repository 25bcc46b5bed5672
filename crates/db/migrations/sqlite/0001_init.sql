-- Timestamps are TEXT in RFC 3339 form as written by sqlx (always UTC, "+00:00"); the repo
-- compares expiry times in Rust rather than in SQL.
-- Enum-like columns (role, kind, status, visibility) have no CHECK constraints on purpose:
-- SQLite cannot alter a CHECK without rebuilding the table, and the repo only writes values
-- from the Rust enums.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    -- Stored lowercased by the repo, so this unique constraint is case-insensitive.
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_role_created ON users (role, created_at);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    revoked_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE media (
    id               TEXT PRIMARY KEY NOT NULL,
    -- No cascade: deleting a user must not silently orphan stored objects.
    owner_id         TEXT NOT NULL REFERENCES users (id),
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    bucket           TEXT NOT NULL,
    original_key     TEXT NOT NULL,
    duration_seconds REAL,
    width            INTEGER,
    height           INTEGER,
    progress         INTEGER NOT NULL DEFAULT 0,
    playable         BOOLEAN NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX media_owner_id ON media (owner_id, id);
CREATE INDEX media_status_id ON media (status, id);

CREATE TABLE object_events (
    id         TEXT PRIMARY KEY NOT NULL,
    media_id   TEXT REFERENCES media (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    etag       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    -- A repeated notification for the same object version is a no-op (ON CONFLICT DO NOTHING).
    UNIQUE (bucket, key, etag)
);
CREATE INDEX object_events_media ON object_events (media_id);
CREATE INDEX object_events_status ON object_events (status, created_at);
