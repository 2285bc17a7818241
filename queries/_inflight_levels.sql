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
-- arrivals), unless --no-totals (a second sweep: a chart per apiserver needs none). Memory and
-- time: each sweep is its own window over narrow rows, the apiserver's sweep partitioned by a
-- pool number (apiserver and kind in one integer: DuckDB hashes and sorts 18 M rows of it in
-- two thirds of the time it takes for the name), the total's by the kind, made from
-- `inflight_held` as they are sorted, and each analysis reads these rows once, so DuckDB keeps
-- none of them after the windows.
-- param: totals BOOLEAN = true  -- with more than one apiserver, also rows '(total)' over all
WITH names AS (
    -- the apiservers in order: a pool's number is its apiserver's position * 2 + 1 when it is
    -- readonly, and the name is looked up again in this list (a join back would build its hash
    -- table on the side of the millions of levels, which DuckDB estimates the smaller)
    SELECT list(apiserver ORDER BY apiserver) AS apiservers
    FROM (SELECT DISTINCT apiserver FROM inflight_held)
),
servers AS (
    SELECT $totals AND array_length(apiservers) > 1 AS several FROM names
),
changes AS (
    SELECT
        array_position(n.apiservers, h.apiserver) * 2 + (h.kind = 'readonly')::INTEGER AS pool,
        CASE WHEN e.delta > 0 THEN h.held_from ELSE h.held_to END AS instant,
        e.delta,
        e.delta * h.seats AS seat_delta
    FROM inflight_held AS h
    CROSS JOIN names AS n
    CROSS JOIN (VALUES (1), (-1)) AS e (delta)
    WHERE e.delta > 0 OR h.held_to IS NOT NULL
),
by_server AS (
    SELECT
        n.apiservers[CAST(s.pool // 2 AS INTEGER)] AS apiserver,
        false AS is_total,
        s.pool % 2 = 1 AS readonly,
        s.level_from,
        s.level_to,
        s.in_flight,
        s.seats_in_flight,
        s.arrivals,
        s.arrives
    FROM (
        SELECT
            pool,
            instant AS level_from,
            coalesce(lead(instant) OVER by_time, instant) AS level_to,
            CAST(sum(delta) OVER by_time AS BIGINT) AS in_flight,
            CAST(sum(seat_delta) OVER by_time AS BIGINT) AS seats_in_flight,
            CAST(sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END) OVER (
                PARTITION BY pool ORDER BY instant RANGE BETWEEN CURRENT ROW AND CURRENT ROW
            ) AS BIGINT) AS arrivals,
            delta > 0 AS arrives
        FROM changes
        WINDOW by_time AS (PARTITION BY pool ORDER BY instant)
    ) AS s
    CROSS JOIN names AS n
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
