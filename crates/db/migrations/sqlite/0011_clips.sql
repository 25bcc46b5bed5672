-- A clip is an item of its own (its original a copy of its source's) made from a range of that
-- original: the job cuts it before processing. The source id is informative only: deleting the
-- source leaves its clips as they are.
ALTER TABLE media ADD COLUMN clip_source_id TEXT;
ALTER TABLE media ADD COLUMN clip_start_seconds REAL;
ALTER TABLE media ADD COLUMN clip_end_seconds REAL;
