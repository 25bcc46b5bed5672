-- Text tracks (captions, subtitles) the owner uploaded for an item (see the PostgreSQL
-- migration). Deleting the item deletes its rows.

CREATE TABLE text_tracks (
    media_id   VARCHAR(64) NOT NULL,
    id         VARCHAR(64) NOT NULL,   -- `u…`: ASCII letters, digits and `-` (part of file names)
    language   VARCHAR(64) NOT NULL,   -- BCP 47 / ISO 639 code
    label      TEXT NOT NULL,
    kind       VARCHAR(16) NOT NULL,   -- subtitles | captions
    bytes      BIGINT NOT NULL,        -- size of the stored WebVTT
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (media_id, id),
    CONSTRAINT text_tracks_media_fk FOREIGN KEY (media_id) REFERENCES media (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
