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
    -- the days, without a date cast of every event (half the cost of this summary): the
    -- earliest and latest time of each hour of events (NULL: no time), whose dates are all the
    -- dates of its events in any time zone: no hour (nor the two around 1970, where // rounds
    -- toward zero) holds more than two dates
    (
        SELECT list(DISTINCT day)
        FROM (
            SELECT unnest([min(received_at)::DATE, max(received_at)::DATE]) AS day
            FROM _direct_scan
            WHERE _status = 'ok'
            -- (an infinite time has no epoch: the infinities are a group of their own)
            GROUP BY received_at IS NULL, epoch_us(received_at) // 3600000000
        )
    )
FROM _direct_scan
