-- Viewer analytics (see the PostgreSQL migration): one row per playback session, and watch
-- time per item, day and rendition. Days are `YYYY-MM-DD` text (UTC).

CREATE TABLE view_sessions (
    media_id    VARCHAR(64) NOT NULL,
    session     VARCHAR(64) NOT NULL,   -- the player's random id for one playback
    day         CHAR(10) NOT NULL,      -- of the session's first beacon
    viewer      VARCHAR(128) NOT NULL,  -- salted daily hash (hex)
    started     INT NOT NULL DEFAULT 0, -- 1 once a view_start came: the session's one view
    startup_ms  BIGINT,                 -- time to first frame, from that view_start
    watch_ms    BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms BIGINT NOT NULL DEFAULT 0,
    rebuffers   BIGINT NOT NULL DEFAULT 0,
    errors      BIGINT NOT NULL DEFAULT 0,
    rendition   VARCHAR(255),           -- the one playing now (watch time is counted on it)
    ended       INT NOT NULL DEFAULT 0,
    created_at  DATETIME(6) NOT NULL,
    updated_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (media_id, session),
    -- An item's report over a range of days; pruning by day.
    KEY view_sessions_media_day (media_id, day),
    KEY view_sessions_day (day),
    CONSTRAINT view_sessions_media_fk FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE view_renditions (
    media_id VARCHAR(64) NOT NULL,
    day      CHAR(10) NOT NULL,
    name     VARCHAR(255) NOT NULL,     -- one of the item's rendition names
    watch_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (media_id, day, name),
    KEY view_renditions_day (day),
    CONSTRAINT view_renditions_media_fk FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
