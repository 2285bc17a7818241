-- name: direct_scan
-- The keys pass over one file read in place: audit ID, stage, times and status of each row of
-- the relation `keys` (audit_keys.sql), in file order (the caller sets
-- preserve_insertion_order, so that rowid + 1 is the line when every line is a row).
CREATE TEMP TABLE _direct_scan AS
SELECT audit_id, stage, stage_at, received_at, _status
FROM keys
