-- name: direct_scan_summary
-- What the keys pass found: events, blank lines, rows that make the file unfit to be read in
-- place (not an audit event, no audit ID, a stage that is none), all rows, and the days.
SELECT
    count(*) FILTER (WHERE _status = 'ok'),
    count(*) FILTER (WHERE _status = 'blank'),
    count(*) FILTER (
        WHERE _status NOT IN ('ok', 'blank')
        OR (_status = 'ok' AND (audit_id IS NULL OR try_cast(stage AS audit_stage) IS NULL
            AND stage IS NOT NULL))
    ),
    count(*),
    list(DISTINCT received_at::DATE) FILTER (WHERE _status = 'ok')
FROM _direct_scan
