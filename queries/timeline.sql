-- name: timeline
-- Requests and 429s per interval (--every 1m) for the busiest clients (or --by user, verb...):
-- one row per interval and group, for the top --limit groups by requests over the window.
-- The intervals cover the time the logs cover (the span of queries/_interval_span.sql): a
-- request dated far outside it (a clock gone wrong, 1970) makes no interval of its own.
-- `req_per_s` divides by the part of its interval the observation window covers: the interval
-- in which the logs begin or end is not read as a drop (NULL in an interval they do not cover:
-- requests received before the logs begin and observed in them, a watch opened earlier).
-- shape: over-time
-- chart: line
-- filters: common
-- param: every DURATION = '1m'  -- interval length: 10s, 1m, 5m, 1h30m...
-- param: limit INTEGER = 5  -- follow the N busiest groups (0: all)
-- One pass over `filtered` (reading it twice would make DuckDB materialise it: 0.4 GB at 10 M
-- requests), counting each group's requests per interval: all of them (what ranks the groups),
-- those received by the window's end (what an interval shows: the span's first interval starts
-- on an interval boundary, so an interval is in or out whole, but the last ends at the
-- window's end), and the earliest request the logs observed in the window, which begins the
-- span as _interval_span.sql does.
WITH per_interval AS (
    SELECT
        grp,
        utc_bucket($every, received_at) AS interval_start,
        count(*) AS all_requests,
        count(*) FILTER (WHERE received_at <= o.window_end) AS requests,
        count(*) FILTER (WHERE received_at <= o.window_end AND code = 429) AS throttled,
        count(*) FILTER (WHERE coalesce(completed_at, received_at)
            BETWEEN o.window_start AND o.window_end) AS observed,
        min(received_at) FILTER (WHERE coalesce(completed_at, received_at)
            BETWEEN o.window_start AND o.window_end) AS first_observed,
        any_value(o.window_start) AS window_start,
        any_value(o.window_end) AS window_end
    FROM filtered
    CROSS JOIN observation_window($since, $until) AS o
    GROUP BY ALL
),
span AS (
    SELECT
        greatest(least(min(first_observed), any_value(window_start)),
                 any_value(window_start) - INTERVAL 1 DAY) AS first
    FROM per_interval
    HAVING sum(observed) > 0
),
top_groups AS (
    SELECT grp
    FROM per_interval
    GROUP BY grp
    ORDER BY sum(all_requests) DESC, grp
    LIMIT $limit
)
SELECT
    CAST(i.interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(i.grp AS VARCHAR) AS grp,
    CAST(i.requests AS BIGINT) AS requests,
    CAST(round(i.requests / nullif(i.covered_s, 0), 3) AS DOUBLE) AS req_per_s,
    CAST(i.throttled AS BIGINT) AS throttled
FROM (
    SELECT *, interval_covered_s(interval_start, $every, window_start, window_end) AS covered_s
    FROM per_interval
) AS i
SEMI JOIN top_groups USING (grp)
CROSS JOIN span AS s
WHERE i.interval_start >= utc_bucket($every, s.first) AND i.requests > 0
ORDER BY interval_start, requests DESC, grp
