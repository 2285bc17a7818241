-- name: inflight_peaks
-- The busiest moments of each apiserver's max-inflight pools (readonly: get, list; mutating:
-- the other verbs) against --max-requests-inflight / --max-mutating-requests-inflight: the most
-- requests in flight at once and when, the seconds and share of the window every seat was
-- taken, the 429s the logs show, and which clients held the seats at the peak. What-if: under
-- a lower limit, `extra_429s` counts the served requests that would have found every seat
-- taken (an upper bound: a refused request frees its seat at once); under a higher one, the
-- logged 429s would have been served, for a time the logs cannot tell.
-- shape: listing
-- chart: bar
-- filters: common
-- with: _inflight_held
-- with: _inflight_levels
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
WITH bounds AS (
    SELECT window_start, window_end, window_s FROM observation_window($since, $until)
),
levels AS (
    SELECT
        l.*,
        CASE l.kind
            WHEN 'readonly' THEN $max_requests_inflight
            ELSE $max_mutating_requests_inflight
        END AS seat_limit,
        seconds_between(greatest(l.level_from, b.window_start), least(l.level_to, b.window_end))
            AS seconds
    FROM inflight_levels AS l
    CROSS JOIN bounds AS b
    WHERE l.level_to >= b.window_start AND l.level_from < b.window_end
),
pools AS (
    SELECT
        apiserver,
        kind,
        any_value(seat_limit) AS seat_limit,
        max(in_flight) AS peak,
        -- the first instant of the peak
        arg_max(level_from, [in_flight, -epoch_us(level_from)]) AS peak_at,
        coalesce(sum(seconds) FILTER (WHERE in_flight >= seat_limit), 0) AS full_s,
        -- an arrival finds every seat taken when the others in flight then (those received
        -- before it, not completed by then) fill them
        count(*) FILTER (WHERE arrives AND in_flight - arrivals >= seat_limit) AS extra_429s
    FROM levels
    GROUP BY apiserver, kind
),
refused AS (
    SELECT
        coalesce(apiserver, '(not stated)') AS apiserver,
        CASE WHEN verb IN ('get', 'list', 'watch') THEN 'readonly' ELSE 'mutating' END AS kind,
        count(*) AS throttled
    FROM filtered
    WHERE code = 429 AND NOT is_long_running
    GROUP BY ALL
),
at_peak AS (
    SELECT p.apiserver, p.kind, coalesce(h.client, '(no user agent)') AS client, count(*) AS seats
    FROM pools AS p
    JOIN inflight_held AS h
        ON h.apiserver = p.apiserver AND h.kind = p.kind
        AND h.held_from <= p.peak_at AND h.held_to > p.peak_at
    GROUP BY ALL
),
holders AS (
    SELECT
        apiserver,
        kind,
        string_agg(client || ' ' || seats, ', ' ORDER BY seats DESC, client) AS top_holders,
        first(client || ' ' || seats ORDER BY seats DESC, client) AS top_holder
    FROM (
        SELECT *
        FROM at_peak
        QUALIFY row_number() OVER (PARTITION BY apiserver, kind ORDER BY seats DESC, client) <= 3
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
    CAST(b.window_end AS TIMESTAMPTZ) AS window_end
FROM pools AS p
CROSS JOIN bounds AS b
LEFT JOIN refused AS r USING (apiserver, kind)
LEFT JOIN holders AS h USING (apiserver, kind)
ORDER BY p.apiserver, p.kind DESC
