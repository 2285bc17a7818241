-- name: watches
-- Who holds watches open, per client (or --by resource, user...): watch requests started,
-- starts per minute, distinct sources (one per node means a DaemonSet), cluster-wide watches,
-- and the LISTs the same clients sent (a high list-to-watch ratio is a relist storm).
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows
WITH window_bounds AS (
    SELECT
        greatest(
            epoch(coalesce($until, max(received_at)) - coalesce($since, min(received_at))), 60
        ) / 60 AS minutes
    FROM filtered
),
per_group AS (
    SELECT
        grp,
        count(*) FILTER (WHERE is_watch) AS watches,
        count(DISTINCT source_ip) FILTER (WHERE is_watch) AS sources,
        count(*) FILTER (WHERE is_watch AND scope = 'cluster') AS cluster_wide,
        count(*) FILTER (WHERE verb = 'list') AS lists
    FROM filtered
    GROUP BY grp
)
SELECT
    CAST(g.grp AS VARCHAR) AS grp,
    CAST(g.watches AS BIGINT) AS watches,
    CAST(round(g.watches / w.minutes, 3) AS DOUBLE) AS watches_per_min,
    CAST(g.sources AS BIGINT) AS sources,
    CAST(g.cluster_wide AS BIGINT) AS cluster_wide,
    CAST(g.lists AS BIGINT) AS lists,
    CAST(round(g.lists / g.watches, 3) AS DOUBLE) AS lists_per_watch
FROM per_group AS g
CROSS JOIN window_bounds AS w
WHERE g.watches > 0
ORDER BY watches DESC, grp
LIMIT $limit
