-- name: access_scan_summary
-- What access_scan.sql staged as batch $batch: its rows (lines), the lines it found unfit, the
-- access lines timed by a CRI wrapper, whether the klog clock may pass from December to January
-- (the year then changes within the file, which the line-by-line reader follows; the klog clock
-- is read in UTC, so a line's month is its stage_at's), and the lines the reference reader
-- skips: every klog line that is no access line ('noise'), and every run of 'other' lines that
-- does not follow an access line (at the start of the file, or after noise; such a run after an
-- access line continues it). The rows of the batch took consecutive rowids, line by line.
-- param: batch INTEGER  -- the batch access_scan.sql staged
WITH batch AS (
    SELECT rowid AS r, _status, _wrapper_timed, stage_at FROM staged WHERE _batch = $batch
),
other AS (
    SELECT r, r - row_number() OVER (ORDER BY r) AS run FROM batch WHERE _status = 'other'
),
runs AS (
    SELECT min(r) AS first, count(*) AS lines FROM other GROUP BY run
),
skipped_runs AS (
    SELECT coalesce(sum(lines), 0) AS lines
    FROM runs
    WHERE first = (SELECT min(r) FROM batch)
        OR first - 1 IN (SELECT r FROM batch WHERE _status = 'noise')
)
SELECT
    count(*),
    count(*) FILTER (WHERE _status = 'unfit'),
    count(*) FILTER (WHERE _status = 'ok' AND _wrapper_timed),
    coalesce(
        bool_or(month(stage_at) = 12) FILTER (WHERE _status = 'ok' AND NOT _wrapper_timed)
        AND bool_or(month(stage_at) = 1) FILTER (WHERE _status = 'ok' AND NOT _wrapper_timed),
        false
    ),
    count(*) FILTER (WHERE _status = 'noise') + (SELECT lines FROM skipped_runs)
FROM batch
