-- The webhook outbox: one delivery per event (media.ready / media.failed), written in the same
-- transaction as the state change it announces, so a crash or restart never drops one. Senders
-- claim due deliveries with a lease (two replicas never send one at once; a crashed sender's
-- claim expires), and record every attempt. Timestamps are fixed-width RFC 3339 text (see
-- 0002_jobs.sql), so comparing them as text is time order.

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,  -- also the event's id
    event            TEXT NOT NULL,
    -- No foreign key: the delivery history outlives a deleted item.
    media_id         TEXT NOT NULL,
    body             TEXT NOT NULL,              -- the JSON sent, the same on every attempt
    status           TEXT NOT NULL,              -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    round_attempts   INTEGER NOT NULL DEFAULT 0, -- since queued or redelivered (the backoff's count)
    next_attempt_at  TEXT,                       -- set while pending
    lease_owner      TEXT,
    lease_expires_at TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT
);
-- Claiming due deliveries; listing by status, newest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_status_id ON webhook_deliveries (status, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    duration_ms  INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    PRIMARY KEY (delivery_id, number)
);
