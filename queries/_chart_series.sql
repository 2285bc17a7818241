-- name: _chart_series
-- For the charts (k8saudit/charts.py): per interval (--every) the requests, req/s and 429s of
-- the top --limit groups (ranked by requests, or by 429s for --rank throttled: then only groups
-- that got any) and of all the other groups together (`is_other`, `group_rank` limit + 1), so
-- that a chart's data is at most intervals x (limit + 1) rows whatever the size of the dataset;
-- `interval_throttled` is the 429s of the interval in all groups (a chart's 429 band). req/s
-- divides by the part of the interval the observation window covers (NULL where it covers
-- none: requests received before the logs begin, observed in them).
-- filters: common
-- param: every DURATION = '1m'  -- interval length
-- param: limit INTEGER = 8  -- the groups drawn apart; the rest are one
-- param: rank VARCHAR = 'requests' IN (requests, throttled)  -- which groups are drawn apart
WITH per_group AS (
    SELECT grp, count(*) AS requests, count(*) FILTER (WHERE code = 429) AS throttled
    FROM filtered
    GROUP BY grp
),
top_groups AS (
    SELECT
        grp,
        row_number() OVER (
            ORDER BY CASE $rank WHEN 'throttled' THEN throttled ELSE requests END DESC, grp
        ) AS group_rank
    FROM per_group
    WHERE $rank = 'requests' OR throttled > 0
    QUALIFY group_rank <= $limit
),
per_interval AS (
    SELECT
        utc_bucket($every, f.received_at) AS interval_start,
        t.grp,
        coalesce(t.group_rank, $limit + 1) AS group_rank,
        count(*) AS requests,
        count(*) FILTER (WHERE f.code = 429) AS throttled
    FROM filtered AS f
    LEFT JOIN top_groups AS t ON t.grp = f.grp
    GROUP BY ALL
),
covered AS (
    SELECT
        i.*,
        interval_covered_s(i.interval_start, $every, o.window_start, o.window_end) AS covered_s
    FROM per_interval AS i
    CROSS JOIN observation_window($since, $until) AS o
)
SELECT
    CAST(interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(grp AS VARCHAR) AS grp,
    CAST(grp IS NULL AS BOOLEAN) AS is_other,
    CAST(group_rank AS BIGINT) AS group_rank,
    CAST(requests AS BIGINT) AS requests,
    CAST(requests / nullif(covered_s, 0) AS DOUBLE) AS req_per_s,
    CAST(throttled AS BIGINT) AS throttled,
    CAST(sum(throttled) OVER (PARTITION BY interval_start) AS BIGINT) AS interval_throttled
FROM covered
ORDER BY interval_start, group_rank
