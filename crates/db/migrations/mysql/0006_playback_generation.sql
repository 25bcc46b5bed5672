-- Bumped each time an item is made private (see the PostgreSQL migration).
ALTER TABLE media ADD COLUMN playback_generation BIGINT NOT NULL DEFAULT 0;
UPDATE media SET playback_generation = 1 WHERE visibility = 'private';
