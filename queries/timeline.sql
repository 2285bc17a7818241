-- name: timeline
-- Requests and 429s per interval (--every 1m) for the busiest clients (or --by user, verb...):
-- one row per interval and group, for the top --limit groups by requests over the window.
-- The intervals cover the time the logs cover (queries/_interval_span.sql): a request dated far
-- outside it (a clock gone wrong, 1970) makes no interval of its own.
-- shape: over-time
-- chart: line
-- filters: common
-- with: _interval_span
-- param: every DURATION = '1m'  -- interval length: 10s, 1m, 5m, 1h30m...
-- param: limit INTEGER = 5  -- follow the N busiest groups (0: all)
WITH top_groups AS (
    SELECT grp
    FROM filtered
    GROUP BY grp
    ORDER BY count(*) DESC, grp
    LIMIT $limit
)
SELECT
    CAST(time_bucket($every, received_at) AS TIMESTAMPTZ) AS interval_start,
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(round(count(*) / epoch($every), 3) AS DOUBLE) AS req_per_s,
    CAST(count(*) FILTER (WHERE code = 429) AS BIGINT) AS throttled
FROM filtered
SEMI JOIN top_groups USING (grp)
CROSS JOIN interval_span AS b
WHERE received_at >= time_bucket($every, b.first) AND received_at <= b.last
GROUP BY ALL
ORDER BY interval_start, requests DESC, grp
