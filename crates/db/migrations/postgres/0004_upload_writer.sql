-- The write lease of an upload: which request (on any replica) may append to it, until when.
-- Taken with a compare-and-set, renewed while the request streams, given back at its end; a
-- crashed replica's lease simply runs out.
ALTER TABLE uploads ADD COLUMN writer TEXT;
ALTER TABLE uploads ADD COLUMN writer_until TIMESTAMPTZ;
