-- Ids are TEXT with the "C" collation so that ORDER BY id / id < $n follow byte order, which is
-- creation order for UUIDv7 strings regardless of the database's default locale.
-- Constraint names are explicit: the repo maps them to DbError::Conflict subjects.
-- Enum-like columns (role, kind, status, visibility) have no CHECK constraints, matching SQLite.

CREATE TABLE users (
    id            TEXT COLLATE "C" NOT NULL,
    -- Stored lowercased by the repo, so this unique constraint is case-insensitive.
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_role_created ON users (role, created_at);

CREATE TABLE refresh_tokens (
    id          TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE api_keys (
    id           TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE media (
    id               TEXT COLLATE "C" NOT NULL,
    -- No cascade: deleting a user must not silently orphan stored objects.
    owner_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    bucket           TEXT NOT NULL,
    original_key     TEXT NOT NULL,
    duration_seconds DOUBLE PRECISION,
    width            INTEGER,
    height           INTEGER,
    progress         INTEGER NOT NULL DEFAULT 0,
    playable         BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT media_pkey PRIMARY KEY (id)
);
CREATE INDEX media_owner_id ON media (owner_id, id);
CREATE INDEX media_status_id ON media (status, id);

CREATE TABLE object_events (
    id         TEXT COLLATE "C" NOT NULL,
    media_id   TEXT COLLATE "C" REFERENCES media (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    etag       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT object_events_pkey PRIMARY KEY (id),
    -- A repeated notification for the same object version is a no-op (ON CONFLICT DO NOTHING).
    CONSTRAINT object_events_bucket_key_etag_key UNIQUE (bucket, key, etag)
);
CREATE INDEX object_events_media ON object_events (media_id);
CREATE INDEX object_events_status ON object_events (status, created_at);
