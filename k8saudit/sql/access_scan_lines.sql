-- name: access_scan_lines
-- Number the lines access_scan.sql staged as batch $batch, every one of them fit: staged in
-- file order, the n-th line took the n-th rowid of the batch.
-- param: batch INTEGER  -- the batch access_scan.sql staged
UPDATE staged
SET source_line = rowid - (SELECT min(rowid) FROM staged WHERE _batch = $batch) + 1
WHERE _batch = $batch
