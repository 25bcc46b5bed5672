-- The webhook outbox: one delivery per event, written in the same transaction as the state
-- change it announces; senders claim due deliveries with a lease (FOR UPDATE SKIP LOCKED).

CREATE TABLE webhook_deliveries (
    id               VARCHAR(64) NOT NULL,       -- also the event's id
    event            VARCHAR(64) NOT NULL,
    -- No foreign key: the delivery history outlives a deleted item.
    media_id         VARCHAR(64) NOT NULL,
    body             MEDIUMTEXT NOT NULL,        -- the JSON sent, the same on every attempt
    status           VARCHAR(16) NOT NULL,       -- pending | delivered | failed
    attempts         INT NOT NULL DEFAULT 0,
    round_attempts   INT NOT NULL DEFAULT 0,     -- since queued or redelivered (the backoff's count)
    next_attempt_at  DATETIME(6),                -- set while pending
    lease_owner      VARCHAR(255),
    lease_expires_at DATETIME(6),
    last_status_code INT,
    last_error       TEXT,
    created_at       DATETIME(6) NOT NULL,
    updated_at       DATETIME(6) NOT NULL,
    delivered_at     DATETIME(6),
    PRIMARY KEY (id),
    -- Claiming due deliveries; listing by status, newest first.
    KEY webhook_deliveries_due (status, next_attempt_at, id),
    KEY webhook_deliveries_status_id (status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE webhook_attempts (
    delivery_id  VARCHAR(64) NOT NULL,
    number       INT NOT NULL,
    attempted_at DATETIME(6) NOT NULL,
    duration_ms  BIGINT NOT NULL,
    status_code  INT,
    error        TEXT,
    PRIMARY KEY (delivery_id, number),
    CONSTRAINT webhook_attempts_delivery_fk FOREIGN KEY (delivery_id)
        REFERENCES webhook_deliveries (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
