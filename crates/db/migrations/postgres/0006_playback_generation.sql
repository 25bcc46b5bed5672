-- Bumped each time an item is made private: a playback token carries the number it was minted
-- at and plays only while it still matches. Items private now start at 1, so tokens minted
-- before this column existed (they carry none, read as 0) stop playing them.
ALTER TABLE media ADD COLUMN playback_generation BIGINT NOT NULL DEFAULT 0;
UPDATE media SET playback_generation = 1 WHERE visibility = 'private';
