-- name: _compare_side
-- One side of `compare` (k8saudit.comparison): per group of the --by grouping its requests,
-- 429s and API-server busy time (latency of non-long-running requests), with the side's
-- observation window (`observation_window`, k8saudit/sql/observation_window.sql: the time the
-- logs cover, clipped by the side's --since/--until), which its rates divide by.
-- filters: common
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(count(*) FILTER (WHERE code = 429) AS BIGINT) AS throttled,
    CAST(coalesce(sum(latency_ms) FILTER (WHERE NOT is_long_running), 0) AS DOUBLE) AS busy_ms,
    CAST(any_value(w.window_s) AS DOUBLE) AS seconds,
    CAST(any_value(w.window_start) AS TIMESTAMPTZ) AS window_start,
    CAST(any_value(w.window_end) AS TIMESTAMPTZ) AS window_end
FROM filtered
CROSS JOIN observation_window($since, $until) AS w
GROUP BY grp
