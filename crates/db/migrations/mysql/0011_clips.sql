-- A clip is an item of its own made from a range of its source's original; the source id is
-- informative only.
ALTER TABLE media ADD COLUMN clip_source_id VARCHAR(64);
ALTER TABLE media ADD COLUMN clip_start_seconds DOUBLE;
ALTER TABLE media ADD COLUMN clip_end_seconds DOUBLE;
