-- name: _open_counts
-- Watches open per group from each instant on, for the analyses that declare
-- `-- with: _open_counts` (it reads their `filtered`). A watch is open from received_at until
-- completed_at; one that never completed stays open to the end of the data, so it has no
-- closing event. The events of one instant net out first (a watch closing as another opens is
-- no overlap); the running sum is then the number of watches open from that instant on.
-- A report reads it for the watches table and the open-watches chart (`-- keep: yes`).
-- keep: yes
WITH watch_events AS (
    SELECT grp, received_at AS event_at, 1 AS delta
    FROM filtered
    WHERE is_watch
    UNION ALL
    SELECT grp, greatest(completed_at, received_at) AS event_at, -1 AS delta
    FROM filtered
    WHERE is_watch AND completed_at IS NOT NULL
)
SELECT
    grp,
    event_at,
    sum(sum(delta)) OVER (PARTITION BY grp ORDER BY event_at) AS open_watches
FROM watch_events
GROUP BY grp, event_at
