-- Uploads in progress (tus and direct-to-bucket). The row is the durable state of an upload:
-- after a restart, HEAD answers from it and the next PATCH continues from `state`.
CREATE TABLE uploads (
    id          VARCHAR(64) NOT NULL,
    owner_id    VARCHAR(64) NOT NULL,
    protocol    VARCHAR(16) NOT NULL,
    filename    TEXT NOT NULL,
    title       TEXT,
    `key`       VARCHAR(1024) NOT NULL,
    length      BIGINT NOT NULL,
    `offset`    BIGINT NOT NULL DEFAULT 0,
    state       MEDIUMTEXT NOT NULL,
    metadata    MEDIUMTEXT,
    status      VARCHAR(16) NOT NULL,
    expires_at  DATETIME(6) NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    -- `key` is too long for an index: its SHA-256 is unique instead.
    key_sha256  BINARY(32) AS (UNHEX(SHA2(`key`, 256))) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY uploads_key_key (key_sha256),
    KEY uploads_expires (expires_at),
    CONSTRAINT uploads_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
