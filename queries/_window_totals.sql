-- name: _window_totals
-- The observation window of an analysis (the time the logs cover, clipped by --since and
-- --until: observation_window in k8saudit/sql/observation_window.sql) and the totals its shares
-- divide by, over its `filtered` requests: requests, API-server busy time (latency of
-- non-long-running requests) and 429s. For the analyses that declare `-- with: _window_totals`;
-- `seconds` is the one divisor of their rates.
-- filters: common
SELECT
    any_value(o.window_s) AS seconds,
    any_value(o.window_start) AS window_start,
    any_value(o.window_end) AS window_end,
    count(*) AS requests,
    sum(latency_ms) FILTER (WHERE NOT is_long_running) AS busy_ms,
    count(*) FILTER (WHERE code = 429) AS throttled
FROM filtered
CROSS JOIN observation_window($since, $until) AS o
