-- name: _chart_health
-- For the latency and errors charts (k8saudit/charts.py): per interval (--every) the p50, p90
-- and p99 latency of the non-long-running requests that have one, how many have none
-- (`latency_unknown` of `timed`: no completion in the logs, most often because they were
-- still running when the logs end; the percentiles leave them out, and read low where they are
-- the slow ones), and the 4xx and 5xx responses, as counts, per second (of the part of the
-- interval the observation window covers) and as shares of the interval's requests. One row
-- per interval whatever the size of the dataset.
-- filters: common
-- param: every DURATION = '1m'  -- interval length
WITH per_interval AS (
    SELECT
        utc_bucket($every, received_at) AS interval_start,
        count(*) AS requests,
        quantile_cont(latency_ms, 0.5) FILTER (WHERE NOT is_long_running) AS p50_ms,
        quantile_cont(latency_ms, 0.9) FILTER (WHERE NOT is_long_running) AS p90_ms,
        quantile_cont(latency_ms, 0.99) FILTER (WHERE NOT is_long_running) AS p99_ms,
        count(*) FILTER (WHERE NOT is_long_running) AS timed,
        count(*) FILTER (WHERE NOT is_long_running AND latency_ms IS NULL) AS latency_unknown,
        count(*) FILTER (WHERE code BETWEEN 400 AND 499) AS errors_4xx,
        count(*) FILTER (WHERE code >= 500) AS errors_5xx
    FROM filtered
    GROUP BY ALL
)
SELECT
    CAST(i.interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(i.requests AS BIGINT) AS requests,
    CAST(i.p50_ms AS DOUBLE) AS p50_ms,
    CAST(i.p90_ms AS DOUBLE) AS p90_ms,
    CAST(i.p99_ms AS DOUBLE) AS p99_ms,
    CAST(i.timed AS BIGINT) AS timed,
    CAST(i.latency_unknown AS BIGINT) AS latency_unknown,
    CAST(i.errors_4xx AS BIGINT) AS errors_4xx,
    CAST(i.errors_5xx AS BIGINT) AS errors_5xx,
    CAST(i.errors_5xx / nullif(
        interval_covered_s(i.interval_start, $every, o.window_start, o.window_end), 0
    ) AS DOUBLE) AS error_5xx_per_s,
    CAST(i.errors_5xx / i.requests AS DOUBLE) AS error_5xx_share,
    CAST(i.errors_4xx / i.requests AS DOUBLE) AS error_4xx_share
FROM per_interval AS i
CROSS JOIN observation_window($since, $until) AS o
ORDER BY i.interval_start
