-- name: inflight_peaks
-- The busiest moments of each apiserver's max-inflight pools (readonly: get, list; mutating:
-- the other verbs) against --max-requests-inflight / --max-mutating-requests-inflight: the most
-- requests in flight at once and when, the seconds and share of the window every seat was
-- taken, the 429s the logs show, and which clients held the seats at the peak. What-if: under
-- a lower limit, `extra_429s` counts the served requests that would have found every seat
-- taken (an upper bound: a refused request frees its seat at once); under a higher one, the
-- logged 429s would have been served, for a time the logs cannot tell. With more than one
-- apiserver, each pool also has a row '(total)' (is_total): the most requests in flight at one
-- instant over all apiservers, when, all their 429s and who held the seats then; the limits
-- hold per apiserver, so it has no limit, seconds full or extra 429s of its own. `seats_peak`:
-- the most APF seats in flight at once (apf_iseats, 1 where not stated: _inflight_held.sql;
-- NULL where stated seats too absurd to add up exactly: _inflight_levels.sql).
-- shape: listing
-- chart: bar
-- filters: common
-- with: _inflight_held
-- with: _inflight_levels
-- with: _inflight_seconds
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
WITH bounds AS (
    SELECT window_start, window_end, window_s FROM observation_window($since, $until)
),
pools AS (
    SELECT
        apiserver,
        is_total,
        kind,
        CASE WHEN NOT is_total THEN CASE kind
            WHEN 'readonly' THEN $max_requests_inflight
            ELSE $max_mutating_requests_inflight
        END END AS seat_limit,
        max(peak) AS peak,
        -- the first instant of the peak: the key orders by the level that began in a second,
        -- then the earlier instant (|epoch_us| < the factor); one HUGEINT compares faster
        -- than a list
        arg_max(peak_from, peak::HUGEINT * 9223372036854775807 - epoch_us(peak_from))
            AS peak_at,
        max(seats_peak) AS seats_peak,
        CASE WHEN NOT is_total THEN sum(full_us) / 1e6 END AS full_s,
        CASE WHEN NOT is_total THEN sum(found_full) END AS extra_429s
    FROM inflight_seconds
    GROUP BY apiserver, is_total, kind
),
refused_by_server AS (
    SELECT
        coalesce(apiserver, '(not stated)') AS apiserver,
        CASE WHEN verb IN ('get', 'list', 'watch') THEN 'readonly' ELSE 'mutating' END AS kind,
        count(*) AS throttled
    FROM filtered
    WHERE code = 429 AND NOT is_long_running
    GROUP BY ALL
),
refused AS (
    SELECT apiserver, false AS is_total, kind, throttled
    FROM refused_by_server
    UNION ALL
    SELECT '(total)', true, kind, sum(throttled)
    FROM refused_by_server
    GROUP BY kind
),
at_peak AS (
    SELECT
        p.apiserver,
        p.is_total,
        p.kind,
        coalesce(h.client, '(no user agent)') AS client,
        count(*) AS seats
    FROM pools AS p
    JOIN (
        -- only what was in flight at some peak: the join then checks a few rows per pool
        SELECT *
        FROM inflight_held
        WHERE held_from <= (SELECT max(peak_at) FROM pools)
          AND held_to > (SELECT min(peak_at) FROM pools)
    ) AS h
        ON (p.is_total OR h.apiserver = p.apiserver) AND h.kind = p.kind
        AND h.held_from <= p.peak_at AND h.held_to > p.peak_at
    GROUP BY ALL
),
holders AS (
    SELECT
        apiserver,
        is_total,
        kind,
        string_agg(client || ' ' || seats, ', ' ORDER BY seats DESC, client) AS top_holders,
        first(client || ' ' || seats ORDER BY seats DESC, client) AS top_holder
    FROM (
        SELECT *
        FROM at_peak
        QUALIFY row_number() OVER (
            PARTITION BY apiserver, is_total, kind ORDER BY seats DESC, client
        ) <= 3
    )
    GROUP BY ALL
)
SELECT
    CAST(p.apiserver AS VARCHAR) AS apiserver,
    CAST(p.kind AS VARCHAR) AS kind,
    CAST(p.peak AS BIGINT) AS peak,
    CAST(p.seat_limit AS BIGINT) AS seat_limit,
    CAST(round(p.full_s / b.window_s, 5) AS DOUBLE) AS full_share,
    CAST(h.top_holder AS VARCHAR) AS top_holder,
    CAST(coalesce(r.throttled, 0) AS BIGINT) AS throttled,
    CAST(p.extra_429s AS BIGINT) AS extra_429s,
    CAST(h.top_holders AS VARCHAR) AS top_holders,
    CAST(p.peak_at AS TIMESTAMPTZ) AS peak_at,
    CAST(round(p.full_s, 3) AS DOUBLE) AS full_s,
    CAST(b.window_start AS TIMESTAMPTZ) AS window_start,
    CAST(b.window_end AS TIMESTAMPTZ) AS window_end,
    CAST(p.is_total AS BOOLEAN) AS is_total,
    CAST(p.seats_peak AS BIGINT) AS seats_peak
FROM pools AS p
CROSS JOIN bounds AS b
LEFT JOIN refused AS r USING (apiserver, is_total, kind)
LEFT JOIN holders AS h USING (apiserver, is_total, kind)
ORDER BY p.is_total, p.apiserver, p.kind DESC
