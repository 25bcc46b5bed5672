-- Chunked encoding (issue 15): how far the provisional playlists of a split are published,
-- on the split's (`whole` job's) row. A publisher writes only past what is recorded here
-- (more chunks of the done prefix, or the rest), holding this row's lock while it writes, so
-- two parts finishing close together never leave the shorter prefix last; the assemble step
-- sets `provisional_chunks` out of reach, so a late provisional write never lands over the
-- final playlists.
ALTER TABLE jobs ADD COLUMN provisional_chunks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN provisional_rest INTEGER NOT NULL DEFAULT 0;
