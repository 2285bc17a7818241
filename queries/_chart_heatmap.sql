-- name: _chart_heatmap
-- For the heatmap chart (k8saudit/charts.py): the requests of the groups (--by; the chart asks
-- for verb,resource of one client) with their share of API-server time and their 429s, as
-- top_talkers counts them, most first: top_talkers' figures without its percentiles, sources
-- and operations, which cost four fifths of it on a large dataset.
-- filters: common
-- param: limit INTEGER = 5000  -- at most this many groups
WITH per_group AS (
    SELECT
        grp,
        count(*) AS requests,
        sum(latency_ms) FILTER (WHERE NOT is_long_running) AS busy_ms,
        count(*) FILTER (WHERE code = 429) AS throttled
    FROM filtered
    GROUP BY grp
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(requests AS BIGINT) AS requests,
    CAST(round(coalesce(busy_ms / nullif(sum(busy_ms) OVER (), 0), 0), 5) AS DOUBLE) AS time_share,
    CAST(throttled AS BIGINT) AS throttled
FROM per_group
ORDER BY requests DESC, grp
LIMIT $limit
