-- Viewer analytics: one row per playback session, updated in place by every beacon of that
-- session (a heartbeat adds to watch_ms; it is never a row of its own), and watch time per item,
-- day and rendition. Both are deleted after the retention (see `Analytics::prune_views`).
-- `viewer` is a salted daily hash made by the API: no address or user agent is ever stored.
-- Days are `YYYY-MM-DD` text (UTC), the same on both backends.

CREATE TABLE view_sessions (
    media_id    TEXT COLLATE "C" NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    session     TEXT COLLATE "C" NOT NULL,  -- the player's random id for one playback
    day         TEXT COLLATE "C" NOT NULL,  -- of the session's first beacon
    viewer      TEXT COLLATE "C" NOT NULL,  -- salted daily hash (hex)
    started     INTEGER NOT NULL DEFAULT 0, -- 1 once a view_start came: the session's one view
    startup_ms  BIGINT,                     -- time to first frame, from that view_start
    watch_ms    BIGINT NOT NULL DEFAULT 0,
    rebuffer_ms BIGINT NOT NULL DEFAULT 0,
    rebuffers   BIGINT NOT NULL DEFAULT 0,
    errors      BIGINT NOT NULL DEFAULT 0,
    rendition   TEXT,                       -- the one playing now (watch time is counted on it)
    ended       INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT view_sessions_pkey PRIMARY KEY (media_id, session)
);
-- An item's report over a range of days; pruning by day.
CREATE INDEX view_sessions_media_day ON view_sessions (media_id, day);
CREATE INDEX view_sessions_day ON view_sessions (day);

CREATE TABLE view_renditions (
    media_id TEXT COLLATE "C" NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    day      TEXT COLLATE "C" NOT NULL,
    name     TEXT NOT NULL,                 -- one of the item's rendition names
    watch_ms BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT view_renditions_pkey PRIMARY KEY (media_id, day, name)
);
CREATE INDEX view_renditions_day ON view_renditions (day);
