-- name: access_requests
-- The temp table `_access_scan` of the request rows (derive.sql's columns) of an access log read
-- whole in one pass: its lines (log_lines.sql: `lines`) cut (access_scanned.sql: `scanned`),
-- made raw event rows (access_raw.sql: `raw`) and derived (derive.sql: `derived`), all in one
-- statement on every core, in file order (the caller sets preserve_insertion_order: rowid + 1
-- is the line; `source_line` is NULL here). Run with run_sql's `reading`.
CREATE TEMP TABLE _access_scan AS
FROM derived
