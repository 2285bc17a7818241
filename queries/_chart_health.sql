-- name: _chart_health
-- For the latency and errors charts (k8saudit/charts.py): per interval (--every) the p50, p90
-- and p99 latency of the non-long-running requests that have one, how many have none
-- (`latency_unknown` of `timed`: no completion in the logs, most often because they were
-- still running when the logs end; the percentiles leave them out, and read low where they are
-- the slow ones), and the 4xx and 5xx responses, as counts, per second and as shares of the
-- interval's requests. One row per interval whatever the size of the dataset.
-- filters: common
-- param: every DURATION = '1m'  -- interval length
SELECT
    CAST(utc_bucket($every, received_at) AS TIMESTAMPTZ) AS interval_start,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(quantile_cont(latency_ms, 0.5) FILTER (WHERE NOT is_long_running) AS DOUBLE) AS p50_ms,
    CAST(quantile_cont(latency_ms, 0.9) FILTER (WHERE NOT is_long_running) AS DOUBLE) AS p90_ms,
    CAST(quantile_cont(latency_ms, 0.99) FILTER (WHERE NOT is_long_running) AS DOUBLE) AS p99_ms,
    CAST(count(*) FILTER (WHERE NOT is_long_running) AS BIGINT) AS timed,
    CAST(count(*) FILTER (WHERE NOT is_long_running AND latency_ms IS NULL) AS BIGINT)
        AS latency_unknown,
    CAST(count(*) FILTER (WHERE code BETWEEN 400 AND 499) AS BIGINT) AS errors_4xx,
    CAST(count(*) FILTER (WHERE code >= 500) AS BIGINT) AS errors_5xx,
    CAST(count(*) FILTER (WHERE code >= 500) / epoch($every) AS DOUBLE) AS error_5xx_per_s,
    CAST(count(*) FILTER (WHERE code >= 500) / count(*) AS DOUBLE) AS error_5xx_share,
    CAST(count(*) FILTER (WHERE code BETWEEN 400 AND 499) / count(*) AS DOUBLE)
        AS error_4xx_share
FROM filtered
GROUP BY ALL
ORDER BY interval_start
