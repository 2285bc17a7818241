-- name: direct_keys_insert
-- Keep the keys of the events the keys pass found (batch $batch), their line being rowid + 1.
-- param: batch INTEGER  -- the file's batch number
INSERT INTO direct_keys
SELECT $batch, audit_id, stage, stage_at, received_at, rowid + 1
FROM _direct_scan
WHERE _status = 'ok'
