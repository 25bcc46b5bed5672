-- The durable job queue, and what processing produced for each media item.
-- From this migration on, the repo writes every timestamp as fixed-width RFC 3339 UTC text
-- ("YYYY-MM-DDTHH:MM:SS.ffffff+00:00"), so comparing and sorting them as text is time order;
-- the queue relies on that (run_after <= now, lease_expires_at <= now). Never write these
-- columns with SQLite's datetime functions, whose format differs.

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    media_id         TEXT NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        TEXT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
-- Claiming: queued jobs in run_after order; running jobs whose lease has expired.
CREATE INDEX jobs_status_run_after ON jobs (status, run_after, id);
CREATE INDEX jobs_status_lease ON jobs (status, lease_expires_at);
CREATE INDEX jobs_media ON jobs (media_id);

-- One JSON document (mediaserver_core::MediaOutputs), written when processing finishes.
ALTER TABLE media ADD COLUMN outputs TEXT NOT NULL DEFAULT '{}';
