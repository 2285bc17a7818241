-- name: discard_batches
-- Undo every batch after $mark: staged rows, keys of files read in place, access logs read
-- whole (their tables the caller drops).
-- param: mark INTEGER  -- the last batch kept
DELETE FROM staged WHERE _batch > $mark;
DELETE FROM direct_keys WHERE _batch > $mark;
DELETE FROM direct_files WHERE _batch > $mark;
DELETE FROM access_files WHERE _batch > $mark;
