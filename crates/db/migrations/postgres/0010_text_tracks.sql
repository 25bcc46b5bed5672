-- Text tracks (captions, subtitles) the owner uploaded for an item; the source's own subtitle
-- streams are in media.outputs. The WebVTT file and its HLS playlist are objects under the
-- item's outputs (layout::text_track_vtt / text_track_playlist); a row exists only once both
-- are stored. Deleting the item deletes its rows (its objects go with the outputs prefix).

CREATE TABLE text_tracks (
    media_id   TEXT COLLATE "C" NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    id         TEXT COLLATE "C" NOT NULL, -- `u…`: ASCII letters, digits and `-` (part of file names)
    language   TEXT NOT NULL,             -- BCP 47 / ISO 639 code
    label      TEXT NOT NULL,
    kind       TEXT NOT NULL,             -- subtitles | captions
    bytes      BIGINT NOT NULL,           -- size of the stored WebVTT
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT text_tracks_pkey PRIMARY KEY (media_id, id)
);
