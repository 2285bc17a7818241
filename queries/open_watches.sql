-- name: open_watches
-- Watches open at the start of each interval (--every 1m) and watches started in it, for the
-- clients (or --by groups) that held the most watches open at once: one row per interval and
-- group, for the top --limit groups by peak open watches. Charted, a relist storm shows as the
-- open line dropping and coming back while `started` spikes. The intervals cover the time the
-- logs cover (queries/_interval_span.sql), never the span of all timestamps: one event dated 1970
-- adds no interval.
-- shape: over-time
-- chart: line
-- filters: common
-- with: _open_counts
-- with: _interval_span
-- param: every DURATION = '1m'  -- interval length: 10s, 1m, 5m, 1h30m...
-- param: limit INTEGER = 5  -- follow the N groups with the most watches open at once (0: all)
WITH top_groups AS (
    SELECT grp, row_number() OVER (ORDER BY max(open_watches) DESC, grp) AS group_rank
    FROM open_counts
    GROUP BY grp
    ORDER BY group_rank
    LIMIT $limit
),
intervals AS (
    SELECT unnest(generate_series(
        utc_bucket($every, first),
        last,
        $every
    )) AS interval_start
    FROM interval_span
),
started AS (
    SELECT utc_bucket($every, received_at) AS interval_start, grp, count(*) AS n
    FROM filtered
    WHERE is_watch
    GROUP BY ALL
),
grid AS (
    SELECT interval_start, grp, group_rank
    FROM intervals
    CROSS JOIN top_groups
)
-- the open count at an interval's start is the running sum of the group's last event at or
-- before it (none yet: 0)
SELECT
    CAST(g.interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(g.grp AS VARCHAR) AS grp,
    CAST(coalesce(o.open_watches, 0) AS BIGINT) AS open_watches,
    CAST(coalesce(s.n, 0) AS BIGINT) AS started
FROM grid AS g
ASOF LEFT JOIN open_counts AS o ON o.grp = g.grp AND o.event_at <= g.interval_start
LEFT JOIN started AS s ON s.grp = g.grp AND s.interval_start = g.interval_start
ORDER BY g.interval_start, g.group_rank
