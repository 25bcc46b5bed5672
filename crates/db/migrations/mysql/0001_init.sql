-- MySQL 8 / MariaDB >= 10.6 schema, mirroring migrations/{sqlite,postgres} one file per number.
-- Every table is utf8mb4 with the binary collation utf8mb4_bin, so ids, tokens and hashes
-- compare exactly and ORDER BY id follows code-point (= byte) order, like PostgreSQL's "C" and
-- SQLite's BINARY. Columns that are keyed are VARCHAR (InnoDB indexes at most 3072 bytes, 768
-- utf8mb4 characters); long keyed text (object keys) is unique through a stored SHA-256 column.
-- Timestamps are DATETIME(6) holding UTC (the repo binds UTC; no session time zone applies).
-- Index names match PostgreSQL's constraint names: the repo maps them to DbError::Conflict
-- subjects (a primary key is always `PRIMARY`; the statement says which table).

CREATE TABLE users (
    id            VARCHAR(64) NOT NULL,
    -- Stored lowercased by the repo, so this unique index is case-insensitive.
    email         VARCHAR(320) NOT NULL,
    password_hash TEXT NOT NULL,
    role          VARCHAR(32) NOT NULL,
    created_at    DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email_key (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX users_role_created ON users (role, created_at);

CREATE TABLE refresh_tokens (
    id          VARCHAR(64) NOT NULL,
    user_id     VARCHAR(64) NOT NULL,
    token_hash  VARCHAR(255) NOT NULL,
    expires_at  DATETIME(6) NOT NULL,
    revoked_at  DATETIME(6),
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY refresh_tokens_token_hash_key (token_hash),
    KEY refresh_tokens_user (user_id),
    CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE api_keys (
    id           VARCHAR(64) NOT NULL,
    user_id      VARCHAR(64) NOT NULL,
    name         TEXT NOT NULL,
    prefix       VARCHAR(64) NOT NULL,
    key_hash     VARCHAR(255) NOT NULL,
    revoked_at   DATETIME(6),
    last_used_at DATETIME(6),
    created_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY api_keys_key_hash_key (key_hash),
    KEY api_keys_user (user_id),
    CONSTRAINT api_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE media (
    id               VARCHAR(64) NOT NULL,
    -- No cascade: deleting a user must not silently orphan stored objects.
    owner_id         VARCHAR(64) NOT NULL,
    kind             VARCHAR(16) NOT NULL,
    status           VARCHAR(16) NOT NULL,
    title            TEXT NOT NULL,
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           VARCHAR(64) NOT NULL,
    visibility       VARCHAR(16) NOT NULL,
    bucket           TEXT NOT NULL,
    original_key     TEXT NOT NULL,
    duration_seconds DOUBLE,
    width            INT,
    height           INT,
    progress         INT NOT NULL DEFAULT 0,
    playable         BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT,
    created_at       DATETIME(6) NOT NULL,
    updated_at       DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY media_owner_id (owner_id, id),
    KEY media_status_id (status, id),
    CONSTRAINT media_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE object_events (
    id         VARCHAR(64) NOT NULL,
    media_id   VARCHAR(64),
    source     VARCHAR(32) NOT NULL,
    bucket     VARCHAR(256) NOT NULL,  -- OCI allows 256 characters
    `key`      VARCHAR(1024) NOT NULL,
    etag       VARCHAR(255) NOT NULL,
    size       BIGINT NOT NULL,
    status     VARCHAR(16) NOT NULL DEFAULT 'pending',
    attempts   INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    -- (bucket, key, etag) is too long for an index: its SHA-256 is unique instead.
    version_sha256 BINARY(32) AS (UNHEX(SHA2(CONCAT(bucket, '/', CHAR_LENGTH(`key`), '/', `key`, '/', etag), 256))) STORED,
    PRIMARY KEY (id),
    -- A repeated notification for the same object version is a no-op (INSERT IGNORE).
    UNIQUE KEY object_events_bucket_key_etag_key (version_sha256),
    KEY object_events_media (media_id),
    KEY object_events_status (status, created_at),
    CONSTRAINT object_events_media_fk FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Rows locked (SELECT … FOR UPDATE) to serialise decisions that read a whole table, where
-- PostgreSQL locks the table: MySQL's LOCK TABLES would end the transaction.
CREATE TABLE app_locks (
    name VARCHAR(64) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- "Is this the first user?" (the first becomes admin).
INSERT INTO app_locks (name) VALUES ('users');
