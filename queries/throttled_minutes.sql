-- name: throttled_minutes
-- Who filled the API server when it throttled: over the minutes that had at least one 429, per
-- client (or --by user, verb...) the requests sent in those minutes and their share of all
-- requests then, the 429s received, and the API-server busy time (latency of non-long-running
-- requests) held then and its share. A request counts in the minute it was received; the
-- filters apply before the 429 minutes are picked (--client X: the minutes X got 429s).
-- shape: grouped
-- chart: bar
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH throttled_minutes AS (
    SELECT utc_bucket(INTERVAL 1 MINUTE, received_at) AS minute
    FROM filtered
    WHERE code = 429
    GROUP BY minute
),
in_minutes AS (
    SELECT f.*, utc_bucket(INTERVAL 1 MINUTE, f.received_at) AS minute
    FROM filtered AS f
    SEMI JOIN throttled_minutes AS m
        ON utc_bucket(INTERVAL 1 MINUTE, f.received_at) = m.minute
),
totals AS (
    SELECT
        count(*) AS requests,
        sum(latency_ms) FILTER (WHERE NOT is_long_running) AS busy_ms
    FROM in_minutes
),
per_group AS (
    SELECT
        grp,
        count(*) AS requests,
        count(*) FILTER (WHERE code = 429) AS throttled,
        sum(latency_ms) FILTER (WHERE NOT is_long_running) AS busy_ms,
        count(DISTINCT minute) AS minutes
    FROM in_minutes
    GROUP BY grp
)
SELECT
    CAST(g.grp AS VARCHAR) AS grp,
    CAST(g.requests AS BIGINT) AS requests,
    CAST(round(g.requests / t.requests, 5) AS DOUBLE) AS request_share,
    CAST(g.throttled AS BIGINT) AS throttled,
    CAST(round(coalesce(g.busy_ms, 0) / 1000, 1) AS DOUBLE) AS busy_s,
    CAST(round(coalesce(g.busy_ms / nullif(t.busy_ms, 0), 0), 5) AS DOUBLE) AS time_share,
    CAST(g.minutes AS BIGINT) AS minutes
FROM per_group AS g
CROSS JOIN totals AS t
ORDER BY requests DESC, grp
LIMIT $limit
