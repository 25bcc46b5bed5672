-- Chunked encoding (issue 15): a long video's job splits into one job per time range of the
-- video (`chunk`, its range `chunk_index`), one for everything else (`rest`) and, queued by
-- the last of those to finish, one that writes the manifests (`assemble`). `parent_id` ties
-- them to the `whole` job that split them (the item's latest split is its current one);
-- `progress` (0–1) is each part's own, whose mean is the item's.
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'whole';
ALTER TABLE jobs ADD COLUMN chunk_index INTEGER;
ALTER TABLE jobs ADD COLUMN parent_id TEXT COLLATE "C";
ALTER TABLE jobs ADD COLUMN progress DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX jobs_parent ON jobs (parent_id, kind);
