-- The durable job queue, and what processing produced for each media item.
-- Workers claim with SELECT … FOR UPDATE SKIP LOCKED (MySQL 8, MariaDB 10.6) and poll: MySQL
-- has no LISTEN/NOTIFY.

CREATE TABLE jobs (
    id               VARCHAR(64) NOT NULL,
    media_id         VARCHAR(64) NOT NULL,
    status           VARCHAR(16) NOT NULL,
    attempts         INT NOT NULL DEFAULT 0,
    max_attempts     INT NOT NULL,
    run_after        DATETIME(6) NOT NULL,
    lease_owner      VARCHAR(255),
    lease_expires_at DATETIME(6),
    last_error       TEXT,
    created_at       DATETIME(6) NOT NULL,
    updated_at       DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- Claiming: queued jobs in run_after order; running jobs whose lease has expired.
    KEY jobs_status_run_after (status, run_after, id),
    KEY jobs_status_lease (status, lease_expires_at),
    KEY jobs_media (media_id),
    CONSTRAINT jobs_media_fk FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One JSON document (mediaserver_core::MediaOutputs), written when processing finishes.
ALTER TABLE media ADD COLUMN outputs MEDIUMTEXT NOT NULL DEFAULT ('{}');
