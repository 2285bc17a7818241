-- name: _inflight_levels
-- How many requests were in flight at once, per apiserver and pool and over all apiservers,
-- from each instant on: an exact sweep over the receipts (+1) and completions (-1) of
-- `inflight_held` (_inflight_held.sql), one row per change. The frames take the changes of one
-- instant together, so `in_flight` is #{received <= t < completed} on the row's apiserver, what
-- the filter counts when a request arrives at t; it holds from `level_from` to `level_to`, the
-- next instant of that apiserver and pool (the other rows of that instant end where they begin:
-- each level counts once). `arrivals`: the requests received at t on that apiserver, `arrives`:
-- the row is one. `seats_in_flight`: the same weighted by each request's APF seats. With more
-- than one apiserver, every change has a second row, apiserver '(total)' (is_total), with the
-- levels over all apiservers (no arrivals). One sweep: the window sorts the changes once per
-- apiserver and once over all, kind as a boolean (narrow rows), and nothing is kept after it.
WITH changes AS (
    SELECT apiserver, kind = 'readonly' AS readonly, held_from AS instant, 1 AS delta,
        seats AS seat_delta
    FROM inflight_held
    UNION ALL
    SELECT apiserver, kind = 'readonly', held_to, -1, -seats
    FROM inflight_held
    WHERE held_to IS NOT NULL
),
swept AS (
    SELECT
        apiserver,
        readonly,
        instant,
        coalesce(lead(instant) OVER by_server, instant) AS level_to,
        sum(delta) OVER by_server AS in_flight,
        sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END) OVER (
            PARTITION BY apiserver, readonly ORDER BY instant
            RANGE BETWEEN CURRENT ROW AND CURRENT ROW
        ) AS arrivals,
        delta > 0 AS arrives,
        sum(seat_delta) OVER by_server AS seats,
        coalesce(lead(instant) OVER by_pool, instant) AS total_to,
        sum(delta) OVER by_pool AS total_in_flight,
        sum(seat_delta) OVER by_pool AS total_seats
    FROM changes
    WINDOW
        by_server AS (PARTITION BY apiserver, readonly ORDER BY instant),
        by_pool AS (PARTITION BY readonly ORDER BY instant)
),
servers AS (
    SELECT count(DISTINCT apiserver) > 1 AS several FROM inflight_held
)
SELECT
    CASE WHEN t.is_total THEN '(total)' ELSE s.apiserver END AS apiserver,
    t.is_total,
    CASE WHEN s.readonly THEN 'readonly' ELSE 'mutating' END AS kind,
    s.instant AS level_from,
    CASE WHEN t.is_total THEN s.total_to ELSE s.level_to END AS level_to,
    CASE WHEN t.is_total THEN s.total_in_flight ELSE s.in_flight END AS in_flight,
    CASE WHEN t.is_total THEN s.total_seats ELSE s.seats END AS seats_in_flight,
    CASE WHEN NOT t.is_total THEN s.arrivals END AS arrivals,
    s.arrives AND NOT t.is_total AS arrives
FROM swept AS s
CROSS JOIN (VALUES (false), (true)) AS t (is_total)
CROSS JOIN servers AS v
WHERE NOT t.is_total OR v.several
