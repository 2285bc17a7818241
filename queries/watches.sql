-- name: watches
-- Who holds watches open, per client (or --by resource, user...): watch requests started, the
-- most open at once, starts per minute, distinct sources (one per node means a DaemonSet),
-- cluster-wide watches, the LISTs the same clients sent (a high list-to-watch ratio is a relist
-- storm), restarts per hour (a steady informer restarts a few times, a relist storm constantly),
-- watches with a label or field selector and the median duration of the watches that ended.
-- shape: grouped
-- chart: bar
-- filters: common
-- with: _open_counts
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH window_bounds AS (
    SELECT greatest(window_s, 60) / 60 AS minutes, window_start, window_end
    FROM observation_window($since, $until)
),
per_group AS (
    SELECT
        grp,
        count(*) FILTER (WHERE is_watch) AS watches,
        count(DISTINCT source_ip) FILTER (WHERE is_watch) AS sources,
        count(*) FILTER (WHERE is_watch AND scope = 'cluster') AS cluster_wide,
        count(*) FILTER (
            WHERE is_watch AND (label_selector IS NOT NULL OR field_selector IS NOT NULL)
        ) AS selector_scoped,
        count(*) FILTER (WHERE verb = 'list') AS lists,
        median(seconds_between(received_at, completed_at))
            FILTER (WHERE is_watch AND completed_at IS NOT NULL) AS median_duration_s
    FROM filtered
    GROUP BY grp
),
peaks AS (
    SELECT grp, max(open_watches) AS peak_open
    FROM open_counts
    GROUP BY grp
)
SELECT
    CAST(g.grp AS VARCHAR) AS grp,
    CAST(g.watches AS BIGINT) AS watches,
    CAST(p.peak_open AS BIGINT) AS peak_open,
    CAST(round(g.watches / w.minutes, 3) AS DOUBLE) AS watches_per_min,
    CAST(g.sources AS BIGINT) AS sources,
    CAST(g.cluster_wide AS BIGINT) AS cluster_wide,
    CAST(g.lists AS BIGINT) AS lists,
    CAST(round(g.lists / g.watches, 3) AS DOUBLE) AS lists_per_watch,
    CAST(round(g.watches / (w.minutes / 60), 3) AS DOUBLE) AS restarts_per_hour,
    CAST(g.selector_scoped AS BIGINT) AS selector_scoped,
    CAST(round(g.median_duration_s, 3) AS DOUBLE) AS median_duration_s,
    CAST(w.window_start AS TIMESTAMPTZ) AS window_start,
    CAST(w.window_end AS TIMESTAMPTZ) AS window_end
FROM per_group AS g
CROSS JOIN window_bounds AS w
LEFT JOIN peaks AS p USING (grp)
WHERE g.watches > 0
ORDER BY watches DESC, grp
LIMIT $limit
