-- name: _inflight_levels
-- How many requests were in flight at once, per apiserver and pool and over all apiservers,
-- from each instant on: an exact sweep over the receipts (+1) and completions (-1) of
-- `inflight_held` (_inflight_held.sql), one row per change. The frames take the changes of one
-- instant together, so `in_flight` is #{received <= t < completed} on the row's apiserver, what
-- the filter counts when a request arrives at t; it holds from `level_from` to `level_to`, the
-- next instant of that apiserver and pool (the other rows of that instant end where they begin:
-- each level counts once). `arrivals`: the requests received at t on that apiserver, `arrives`:
-- the row is one. `seats_in_flight`: the same weighted by each request's APF seats. With more
-- than one apiserver, the same sweep over all of them gives rows '(total)' (is_total, no
-- arrivals), unless --no-totals (a second sweep: a chart per apiserver needs none). Memory: each sweep is its own window over narrow rows (the kind a boolean, the
-- total's without the apiserver), made from `inflight_held` as they are sorted, and each
-- analysis reads these rows once, so DuckDB keeps none of them after the windows.
-- param: totals BOOLEAN = true  -- with more than one apiserver, also rows '(total)' over all
WITH servers AS (
    SELECT $totals AND count(DISTINCT apiserver) > 1 AS several FROM inflight_held
),
changes AS (
    SELECT
        h.apiserver,
        h.kind = 'readonly' AS readonly,
        CASE WHEN e.delta > 0 THEN h.held_from ELSE h.held_to END AS instant,
        e.delta,
        e.delta * h.seats AS seat_delta
    FROM inflight_held AS h
    CROSS JOIN (VALUES (1), (-1)) AS e (delta)
    WHERE e.delta > 0 OR h.held_to IS NOT NULL
),
by_server AS (
    SELECT
        apiserver,
        false AS is_total,
        readonly,
        instant AS level_from,
        coalesce(lead(instant) OVER by_time, instant) AS level_to,
        CAST(sum(delta) OVER by_time AS BIGINT) AS in_flight,
        CAST(sum(seat_delta) OVER by_time AS BIGINT) AS seats_in_flight,
        CAST(sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END) OVER (
            PARTITION BY apiserver, readonly ORDER BY instant
            RANGE BETWEEN CURRENT ROW AND CURRENT ROW
        ) AS BIGINT) AS arrivals,
        delta > 0 AS arrives
    FROM changes
    WINDOW by_time AS (PARTITION BY apiserver, readonly ORDER BY instant)
),
total_changes AS (
    SELECT
        h.kind = 'readonly' AS readonly,
        CASE WHEN e.delta > 0 THEN h.held_from ELSE h.held_to END AS instant,
        e.delta,
        e.delta * h.seats AS seat_delta
    FROM inflight_held AS h
    CROSS JOIN (VALUES (1), (-1)) AS e (delta)
    CROSS JOIN servers AS v
    WHERE v.several AND (e.delta > 0 OR h.held_to IS NOT NULL)
),
by_pool AS (
    SELECT
        '(total)' AS apiserver,
        true AS is_total,
        readonly,
        instant AS level_from,
        coalesce(lead(instant) OVER by_time, instant) AS level_to,
        CAST(sum(delta) OVER by_time AS BIGINT) AS in_flight,
        CAST(sum(seat_delta) OVER by_time AS BIGINT) AS seats_in_flight,
        CAST(NULL AS BIGINT) AS arrivals,
        false AS arrives
    FROM total_changes
    WINDOW by_time AS (PARTITION BY readonly ORDER BY instant)
)
SELECT
    apiserver, is_total, CASE WHEN readonly THEN 'readonly' ELSE 'mutating' END AS kind,
    level_from, level_to, in_flight, seats_in_flight, arrivals, arrives
FROM (SELECT * FROM by_server UNION ALL SELECT * FROM by_pool)
