-- name: access_scan
-- The temp table `_access_scan` of the raw event rows access_scanned.sql reads from the lines of
-- log_lines.sql (run_sql's `reading`: `lines`, `scanned`), in file order (the caller sets
-- preserve_insertion_order: rowid + 1 is the line).
CREATE TEMP TABLE _access_scan AS
FROM scanned
