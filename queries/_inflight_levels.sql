-- name: _inflight_levels
-- How many requests were in flight at once, per apiserver and pool and over all apiservers,
-- from each instant on: an exact sweep over the receipts (+1) and completions (-1) of
-- `inflight_held` (_inflight_held.sql), one row per change. The frames take the changes of one
-- instant together, so `in_flight` is #{received <= t < completed} on the row's apiserver, what
-- the filter counts when a request arrives at t; it holds from `level_from` to `level_to`, the
-- next instant of that apiserver and pool (the other rows of that instant end where they begin:
-- each level counts once). `arrivals`: the requests received at t on that apiserver and still in
-- flight after it (in_flight - arrivals: the others, received before t and not completed by
-- then), `arrives`: the row is a receipt. `seats_in_flight`: the same weighted by each request's APF seats; NULL in
-- every row when the held requests and their seats beyond the first add up to 2^31 or more
-- (only absurd stated seats get there: APF states at most a few per request), which one
-- running sum could not carry exactly. With more than one apiserver, the same sweep over all
-- of them gives rows '(total)' (is_total, no arrivals), unless --no-totals (a second sweep: a
-- chart per apiserver needs none). Memory and time: each sweep is its own window over narrow
-- rows, the apiserver's sweep partitioned by a pool number (apiserver and kind in one integer:
-- DuckDB hashes and sorts 18 M rows of it in two thirds of the time it takes for the name),
-- the total's by the kind, both made from `inflight_held` as they are sorted; one running sum
-- carries both the requests and the seats (`change`: DuckDB pays ~1 s per windowed aggregate
-- over 18 M rows), and each analysis reads these rows once, so DuckDB keeps none of them after
-- the windows.
-- param: totals BOOLEAN = true  -- with more than one apiserver, also rows '(total)' over all
WITH names AS (
    -- the apiservers in order: a pool's number is its apiserver's position * 2 + 1 when it is
    -- readonly, and the name is looked up again in this list (a join back would build its hash
    -- table on the side of the millions of levels, which DuckDB estimates the smaller)
    SELECT
        list(apiserver ORDER BY apiserver) AS apiservers,
        CAST(sum(requests) AS BIGINT) AS requests,
        -- a request changes the running sum by (unit + its seats - 1), so the sum is in_flight
        -- * unit + the seats beyond the first in flight, which stay within +-(unit - 1) / 2
        CAST(CASE WHEN sum(requests) + sum(extra) < 2147483648 THEN 2 * sum(extra) + 1 END
            AS BIGINT) AS unit
    FROM (
        SELECT apiserver, count(*) AS requests, sum(abs(greatest(seats, 0) - 1)) AS extra
        FROM inflight_held
        GROUP BY apiserver
    )
),
servers AS (
    SELECT $totals AND array_length(apiservers) > 1 AS several FROM names
),
changes AS NOT MATERIALIZED (
    -- read by both sweeps, made again for each from `inflight_held` (kept, its 18 M rows
    -- would be written and read back)
    SELECT
        array_position(n.apiservers, h.apiserver) * 2 + (h.kind = 'readonly')::INTEGER AS pool,
        -- broken logs only: a request completed before it was received holds no seat
        CASE WHEN e.delta > 0 THEN h.held_from ELSE greatest(h.held_to, h.held_from) END
            AS instant,
        e.delta,
        -- a receipt of a request that stays in flight past its instant
        e.delta > 0 AND h.held_to > h.held_from AS stays,
        -- without a unit (too many seats to add up in one sum) only the requests are counted
        e.delta * coalesce(n.unit + greatest(h.seats, 0) - 1, 1) AS change
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
        s.changed,
        s.arrivals,
        s.arrives
    FROM (
        SELECT
            pool,
            instant AS level_from,
            coalesce(lead(instant) OVER by_time, instant) AS level_to,
            CAST(sum(change) OVER by_time AS BIGINT) AS changed,
            CAST(sum(CASE WHEN stays THEN 1 ELSE 0 END) OVER (
                PARTITION BY pool ORDER BY instant RANGE BETWEEN CURRENT ROW AND CURRENT ROW
            ) AS BIGINT) AS arrivals,
            delta > 0 AS arrives
        FROM changes
        WINDOW by_time AS (PARTITION BY pool ORDER BY instant)
    ) AS s
    CROSS JOIN names AS n
),
total_changes AS (
    SELECT c.pool % 2 = 1 AS readonly, c.instant, c.change
    FROM changes AS c
    CROSS JOIN servers AS v
    WHERE v.several
),
by_pool AS (
    SELECT
        '(total)' AS apiserver,
        true AS is_total,
        s.readonly,
        s.level_from,
        s.level_to,
        s.changed,
        CAST(NULL AS BIGINT) AS arrivals,
        false AS arrives
    FROM (
        SELECT
            readonly,
            instant AS level_from,
            coalesce(lead(instant) OVER by_time, instant) AS level_to,
            CAST(sum(change) OVER by_time AS BIGINT) AS changed
        FROM total_changes
        WINDOW by_time AS (PARTITION BY readonly ORDER BY instant)
    ) AS s
),
swept AS (
    SELECT
        l.*,
        -- in_flight * unit + the extra seats, moved up so that both parts are >= 0
        l.changed + n.requests * coalesce(n.unit, 1) + coalesce(n.unit // 2, 0) AS shifted,
        n.requests,
        n.unit
    FROM (SELECT * FROM by_server UNION ALL SELECT * FROM by_pool) AS l
    CROSS JOIN names AS n
)
SELECT
    apiserver, is_total, CASE WHEN readonly THEN 'readonly' ELSE 'mutating' END AS kind,
    level_from, level_to, in_flight,
    in_flight + shifted % unit - unit // 2 AS seats_in_flight,
    arrivals, arrives
FROM (SELECT *, shifted // coalesce(unit, 1) - requests AS in_flight FROM swept)
