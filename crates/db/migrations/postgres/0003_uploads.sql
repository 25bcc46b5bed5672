-- Uploads in progress (tus and direct-to-bucket). The row is the durable state of an upload:
-- after a restart, HEAD answers from it and the next PATCH continues from `state`.
CREATE TABLE uploads (
    id          TEXT COLLATE "C" NOT NULL,
    owner_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    protocol    TEXT NOT NULL,
    filename    TEXT NOT NULL,
    title       TEXT,
    key         TEXT NOT NULL,
    length      BIGINT NOT NULL,
    "offset"    BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    metadata    TEXT,
    status      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT uploads_pkey PRIMARY KEY (id),
    CONSTRAINT uploads_key_key UNIQUE (key)
);
CREATE INDEX uploads_expires ON uploads (expires_at);
