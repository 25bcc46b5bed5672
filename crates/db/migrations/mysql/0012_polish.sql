-- Claim order: image jobs (0) before audio and video jobs (1), set when the job is queued.
ALTER TABLE jobs ADD COLUMN priority INT NOT NULL DEFAULT 1;
UPDATE jobs SET priority = 0 WHERE media_id IN (SELECT id FROM media WHERE kind = 'image');
CREATE INDEX jobs_status_priority ON jobs (status, priority, run_after, id);

-- Titles already compare code point by code point (utf8mb4_bin), as the other backends' do.
-- The library's sorts by keyset (crates/db/src/library.rs). The title sorts (lower(title))
-- have no index here: MariaDB has no functional indexes, and a title is TEXT.
CREATE INDEX media_owner_size ON media (owner_id, size, id);
CREATE INDEX media_size ON media (size, id);
-- "Is this file already in my library?": an owner's items by the original's SHA-256.
CREATE INDEX media_owner_sha256 ON media (owner_id, sha256);
