-- name: timeline
-- Requests and 429s per interval (--every 1m) for the busiest clients (or --by user, verb...):
-- one row per interval and group, for the top --limit groups by requests over the window.
-- filters: common
-- param: every_s INTEGER = 60  -- interval length in seconds
-- param: limit INTEGER = 5  -- how many of the busiest groups to follow
WITH top_groups AS (
    SELECT grp
    FROM filtered
    GROUP BY grp
    ORDER BY count(*) DESC, grp
    LIMIT $limit
)
SELECT
    CAST(time_bucket(to_seconds($every_s), received_at) AS TIMESTAMPTZ) AS interval_start,
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(round(count(*) / $every_s, 3) AS DOUBLE) AS req_per_s,
    CAST(count(*) FILTER (WHERE code = 429) AS BIGINT) AS throttled
FROM filtered
SEMI JOIN top_groups USING (grp)
GROUP BY ALL
ORDER BY interval_start, requests DESC, grp
