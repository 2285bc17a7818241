-- name: latency
-- How long the API server took, per client (or --by verb, resource, user...): p50/p90/p99 and
-- maximum latency of non-long-running requests, the total busy time they held, and how many
-- requests were slower than one second. Watches and other long-running requests are left out.
-- shape: grouped
-- chart: bar
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(round(quantile_cont(latency_ms, 0.5), 1) AS DOUBLE) AS p50_ms,
    CAST(round(quantile_cont(latency_ms, 0.9), 1) AS DOUBLE) AS p90_ms,
    CAST(round(quantile_cont(latency_ms, 0.99), 1) AS DOUBLE) AS p99_ms,
    CAST(round(max(latency_ms), 1) AS DOUBLE) AS max_ms,
    CAST(round(coalesce(sum(latency_ms), 0) / 1000, 1) AS DOUBLE) AS busy_s,
    CAST(count(*) FILTER (WHERE latency_ms > 1000) AS BIGINT) AS over_1s
FROM filtered
WHERE NOT is_long_running AND latency_ms IS NOT NULL
GROUP BY grp
ORDER BY busy_s DESC, grp
LIMIT $limit
