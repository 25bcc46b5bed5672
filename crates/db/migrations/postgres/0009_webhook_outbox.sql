-- The webhook outbox: one delivery per event (media.ready / media.failed), written in the same
-- transaction as the state change it announces, so a crash or restart never drops one. Senders
-- claim due deliveries with a lease (SELECT … FOR UPDATE SKIP LOCKED: two replicas never send
-- one at once; a crashed sender's claim expires), and record every attempt.

CREATE TABLE webhook_deliveries (
    id               TEXT COLLATE "C" NOT NULL,  -- also the event's id
    event            TEXT NOT NULL,
    -- No foreign key: the delivery history outlives a deleted item.
    media_id         TEXT COLLATE "C" NOT NULL,
    body             TEXT NOT NULL,              -- the JSON sent, the same on every attempt
    status           TEXT NOT NULL,              -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    round_attempts   INTEGER NOT NULL DEFAULT 0, -- since queued or redelivered (the backoff's count)
    next_attempt_at  TIMESTAMPTZ,                -- set while pending
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id)
);
-- Claiming due deliveries; listing by status, newest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_status_id ON webhook_deliveries (status, id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    duration_ms  BIGINT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, number)
);
