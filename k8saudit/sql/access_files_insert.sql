-- name: access_files_insert
-- Record an access log read whole in one pass as batch $batch.
-- param: batch INTEGER  -- the file's batch number
INSERT INTO access_files VALUES ($batch, NULL)
