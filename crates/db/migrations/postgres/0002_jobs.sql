-- The durable job queue, and what processing produced for each media item.
-- Workers claim with SELECT … FOR UPDATE SKIP LOCKED and are woken by
-- NOTIFY mediaserver_jobs, sent in the transactions that enqueue or requeue a job.

CREATE TABLE jobs (
    id               TEXT COLLATE "C" NOT NULL,
    media_id         TEXT COLLATE "C" NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        TIMESTAMPTZ NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT jobs_pkey PRIMARY KEY (id)
);
-- Claiming: queued jobs in run_after order; running jobs whose lease has expired.
CREATE INDEX jobs_status_run_after ON jobs (status, run_after, id);
CREATE INDEX jobs_status_lease ON jobs (status, lease_expires_at);
CREATE INDEX jobs_media ON jobs (media_id);

-- One JSON document (mediaserver_core::MediaOutputs), written when processing finishes.
ALTER TABLE media ADD COLUMN outputs TEXT NOT NULL DEFAULT '{}';
