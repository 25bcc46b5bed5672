-- Claim order: image jobs (seconds of work) go before audio and video jobs (minutes), so one
-- worker busy with a queue of long videos does not leave a photo waiting behind all of them.
-- 0 = image, 1 = audio or video; set when the job is queued (from the item's kind).
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
UPDATE jobs SET priority = 0 WHERE media_id IN (SELECT id FROM media WHERE kind = 'image');
CREATE INDEX jobs_status_priority ON jobs (status, priority, run_after, id);
