-- name: open_watches
-- Watches open at the start of each interval (--every 1m) and watches started in it, for the
-- clients (or --by groups) that held the most watches open at once: one row per interval and
-- group, for the top --limit groups by peak open watches. Charted, a relist storm shows as the
-- open line dropping and coming back while `started` spikes.
-- filters: common
-- param: every_s INTEGER = 60  -- interval length in seconds
-- param: limit INTEGER = 5  -- how many groups to follow (those with the most watches open at once)
WITH watch_events AS (
    -- a watch is open from received_at until completed_at; one that never completed stays open
    -- to the end of the data, so it has no closing event
    SELECT grp, received_at AS event_at, 1 AS delta
    FROM filtered
    WHERE is_watch
    UNION ALL
    SELECT grp, greatest(completed_at, received_at) AS event_at, -1 AS delta
    FROM filtered
    WHERE is_watch AND completed_at IS NOT NULL
),
open_counts AS (
    -- the events of one instant net out first (a watch closing as another opens is no overlap);
    -- the running sum is then the number of watches open from that instant on
    SELECT
        grp,
        event_at,
        sum(sum(delta)) OVER (PARTITION BY grp ORDER BY event_at) AS open_watches
    FROM watch_events
    GROUP BY grp, event_at
),
top_groups AS (
    SELECT grp, row_number() OVER (ORDER BY max(open_watches) DESC, grp) AS group_rank
    FROM open_counts
    GROUP BY grp
    ORDER BY group_rank
    LIMIT $limit
),
intervals AS (
    SELECT unnest(generate_series(
        time_bucket(to_seconds($every_s), min(received_at)),
        max(received_at),
        to_seconds($every_s)
    )) AS interval_start
    FROM filtered
),
started AS (
    SELECT time_bucket(to_seconds($every_s), received_at) AS interval_start, grp, count(*) AS n
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
