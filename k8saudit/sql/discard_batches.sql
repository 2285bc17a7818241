-- name: discard_batches
-- Undo every batch after $mark: staged rows and keys of files read in place.
-- param: mark INTEGER  -- the last batch kept
DELETE FROM staged WHERE _batch > $mark;
DELETE FROM direct_keys WHERE _batch > $mark;
DELETE FROM direct_files WHERE _batch > $mark;
