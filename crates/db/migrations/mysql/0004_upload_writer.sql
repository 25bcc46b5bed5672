-- The write lease of an upload: which request (on any replica) may append to it, until when.
ALTER TABLE uploads ADD COLUMN writer VARCHAR(255);
ALTER TABLE uploads ADD COLUMN writer_until DATETIME(6);
