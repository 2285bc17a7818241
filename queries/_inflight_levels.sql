-- name: _inflight_levels
-- How many requests were in flight at once, per apiserver and pool and over all apiservers,
-- from each instant on: an exact sweep over the receipts (+1) and completions (-1) of
-- `inflight_held` (_inflight_held.sql), one row per change. The frames take the changes of one
-- instant together, so `in_flight` is #{received <= t < completed} on the row's apiserver, what
-- the filter counts when a request arrives at t; it holds from `level_from` to `level_to`, the
-- next instant of that apiserver and pool (the other rows of that instant end where they begin:
-- each level counts once). `arrivals`: the requests received at t on that apiserver, `arrives`:
-- the row is one. `total_in_flight` holds from `level_from` to `total_to`: the same over all
-- apiservers (one sweep: the window sorts these rows once per apiserver and once over all).
-- `seats_in_flight` and `total_seats`: the same weighted by each request's APF seats.
WITH changes AS (
    SELECT apiserver, kind, held_from AS instant, 1 AS delta, seats AS seat_delta
    FROM inflight_held
    UNION ALL
    SELECT apiserver, kind, held_to, -1, -seats
    FROM inflight_held
    WHERE held_to IS NOT NULL
)
SELECT
    apiserver,
    kind,
    instant AS level_from,
    coalesce(lead(instant) OVER by_server, instant) AS level_to,
    sum(delta) OVER by_server AS in_flight,
    sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END) OVER (
        PARTITION BY apiserver, kind ORDER BY instant RANGE BETWEEN CURRENT ROW AND CURRENT ROW
    ) AS arrivals,
    delta > 0 AS arrives,
    coalesce(lead(instant) OVER by_pool, instant) AS total_to,
    sum(delta) OVER by_pool AS total_in_flight,
    sum(seat_delta) OVER by_server AS seats_in_flight,
    sum(seat_delta) OVER by_pool AS total_seats
FROM changes
WINDOW
    by_server AS (PARTITION BY apiserver, kind ORDER BY instant),
    by_pool AS (PARTITION BY kind ORDER BY instant)
