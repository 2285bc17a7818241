-- name: access_scan_lines
-- Keep the access lines access_scan.sql staged as batch $batch, numbered, none of its lines
-- unfit: staged in file order, the n-th line took the n-th rowid of the batch; the lines that
-- are no access line ('noise', 'other': access_scan_summary.sql counted them) go.
-- param: batch INTEGER  -- the batch access_scan.sql staged
UPDATE staged
SET source_line = rowid - (SELECT min(rowid) FROM staged WHERE _batch = $batch) + 1
WHERE _batch = $batch AND _status = 'ok';
DELETE FROM staged WHERE _batch = $batch AND _status <> 'ok'
