-- Uploads in progress (tus and direct-to-bucket). The row is the durable state of an upload:
-- after a restart, HEAD answers from it and the next PATCH continues from `state`.
CREATE TABLE uploads (
    id          TEXT NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    protocol    TEXT NOT NULL,
    filename    TEXT NOT NULL,
    title       TEXT,
    key         TEXT NOT NULL,
    length      BIGINT NOT NULL,
    "offset"    BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    metadata    TEXT,
    status      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT uploads_pkey PRIMARY KEY (id),
    CONSTRAINT uploads_key_key UNIQUE (key)
);
CREATE INDEX uploads_expires ON uploads (expires_at);
