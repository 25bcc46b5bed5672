-- Claim order: image jobs (seconds of work) go before audio and video jobs (minutes), so one
-- worker busy with a queue of long videos does not leave a photo waiting behind all of them.
-- 0 = image, 1 = audio or video; set when the job is queued (from the item's kind).
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
UPDATE jobs SET priority = 0 WHERE media_id IN (SELECT id FROM media WHERE kind = 'image');
CREATE INDEX jobs_status_priority ON jobs (status, priority, run_after, id);

-- The library's sorts, one page at a time by keyset (crates/db/src/library.rs): by title
-- (case-insensitive) and by size, for one owner's items and for everyone's (admins). Newest and
-- oldest use media_owner_id (owner_id, id) and the primary key.
CREATE INDEX media_owner_title ON media (owner_id, lower(title), id);
CREATE INDEX media_owner_size ON media (owner_id, size, id);
CREATE INDEX media_title ON media (lower(title), id);
CREATE INDEX media_size ON media (size, id);
-- "Is this file already in my library?": an owner's items by the original's SHA-256.
CREATE INDEX media_owner_sha256 ON media (owner_id, sha256);
