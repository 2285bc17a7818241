-- name: latency
-- How long the API server took, per client (or --by verb, resource, user...): p50/p90/p99 and
-- maximum latency of non-long-running requests, the total busy time they held, and how many
-- requests were slower than one second. Watches and other long-running requests are left out,
-- and so are requests without a latency (incomplete: only their RequestReceived was logged);
-- `long_running` and `incomplete` count them, so that requests + long_running + incomplete is
-- the group's requests in top-talkers.
-- shape: grouped
-- chart: bar
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH measured AS (
    SELECT *, coalesce(NOT is_long_running AND latency_ms IS NOT NULL, false) AS timed
    FROM filtered
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) FILTER (WHERE timed) AS BIGINT) AS requests,
    CAST(round(quantile_cont(latency_ms, 0.5) FILTER (WHERE timed), 1) AS DOUBLE) AS p50_ms,
    CAST(round(quantile_cont(latency_ms, 0.9) FILTER (WHERE timed), 1) AS DOUBLE) AS p90_ms,
    CAST(round(quantile_cont(latency_ms, 0.99) FILTER (WHERE timed), 1) AS DOUBLE) AS p99_ms,
    CAST(round(max(latency_ms) FILTER (WHERE timed), 1) AS DOUBLE) AS max_ms,
    CAST(round(coalesce(sum(latency_ms) FILTER (WHERE timed), 0) / 1000, 1) AS DOUBLE) AS busy_s,
    CAST(count(*) FILTER (WHERE timed AND latency_ms > 1000) AS BIGINT) AS over_1s,
    CAST(count(*) FILTER (WHERE is_long_running) AS BIGINT) AS long_running,
    CAST(count(*) FILTER (WHERE NOT timed AND NOT is_long_running) AS BIGINT) AS incomplete
FROM measured
GROUP BY grp
ORDER BY busy_s DESC, requests DESC, grp
LIMIT $limit
