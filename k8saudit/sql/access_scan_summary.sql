-- name: access_scan_summary
-- What access_scan.sql staged as batch $batch: its rows (lines), the lines that are not
-- canonical access lines (or not valid dates), the lines timed by a CRI wrapper, and whether
-- the klog clock may pass from December to January (the year then changes within the file,
-- which the line-by-line reader follows; the klog clock is read in UTC, so a line's month is
-- its stage_at's).
-- param: batch INTEGER  -- the batch access_scan.sql staged
SELECT
    count(*),
    count(*) FILTER (WHERE _status <> 'ok'),
    count(*) FILTER (WHERE _wrapper_timed),
    coalesce(
        bool_or(month(stage_at) = 12) FILTER (WHERE _status = 'ok' AND NOT _wrapper_timed)
        AND bool_or(month(stage_at) = 1) FILTER (WHERE _status = 'ok' AND NOT _wrapper_timed),
        false
    )
FROM staged
WHERE _batch = $batch
