-- name: _inflight_levels
-- How many requests were in flight at once, per apiserver and pool, from each instant on: an
-- exact sweep over the receipts (+1) and completions (-1) of `inflight_held`
-- (_inflight_held.sql). The changes of one instant net out first, so `in_flight` is
-- #{received <= t < completed}, what the filter counts when a request arrives at t; it holds
-- from `level_from` to `level_to` (the next instant). `arrivals`: requests received at t.
WITH changes AS (
    SELECT apiserver, kind, held_from AS instant, 1 AS delta
    FROM inflight_held
    UNION ALL
    SELECT apiserver, kind, held_to, -1
    FROM inflight_held
    WHERE held_to IS NOT NULL
),
instants AS (
    SELECT apiserver, kind, instant, sum(delta) AS delta, count(*) FILTER (WHERE delta > 0) AS arrivals
    FROM changes
    GROUP BY apiserver, kind, instant
)
SELECT
    apiserver,
    kind,
    instant AS level_from,
    coalesce(lead(instant) OVER by_time, instant) AS level_to,
    sum(delta) OVER by_time AS in_flight,
    arrivals
FROM instants
WINDOW by_time AS (PARTITION BY apiserver, kind ORDER BY instant)
