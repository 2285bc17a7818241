-- name: inflight
-- Requests in flight at once over time, as kube-apiserver's max-inflight filter counts them: per
-- apiserver and interval (--every), the most readonly (get, list) and mutating requests in
-- flight at any instant, the seconds every seat of the pool was taken (at or above
-- --max-requests-inflight / --max-mutating-requests-inflight: new requests get 429 then), and
-- the requests that took a seat. Long-running requests (watches, exec...) and 429s hold none.
-- With more than one apiserver, each interval also has a row '(total)' (is_total): the most
-- requests in flight at once over all apiservers, and all the seats taken. The limits hold per
-- apiserver, so its seconds-full are empty: a full total is no limit reached. Where the access
-- log states APF seats, `readonly_seats_peak` / `mutating_seats_peak` weigh each request by the
-- seats it occupied while it executed (apf_iseats, 1 where not stated: _inflight_held.sql).
-- Reconstructed exactly from each request's receipt and completion (_inflight_levels.sql).
-- shape: over-time
-- chart: line
-- filters: common
-- with: _inflight_held
-- with: _inflight_levels
-- param: every DURATION = '10s'  -- interval length: 1s, 10s, 1m...
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
WITH bounds AS (
    SELECT window_start, window_end FROM observation_window($since, $until)
),
segments AS (
    SELECT
        l.apiserver,
        l.is_total,
        l.kind,
        l.in_flight,
        l.seats_in_flight AS seats,
        greatest(l.level_from, b.window_start) AS seg_from,
        least(l.level_to, b.window_end) AS seg_to,
        NOT l.is_total AND l.in_flight >= CASE l.kind
            WHEN 'readonly' THEN $max_requests_inflight
            ELSE $max_mutating_requests_inflight
        END AS seats_full
    FROM inflight_levels AS l
    CROSS JOIN bounds AS b
    WHERE l.level_to >= b.window_start AND l.level_from < b.window_end
),
in_buckets AS (
    -- each segment in the interval it starts in, for the part of it inside; the last segment
    -- of each interval (the latest end) may go on into the next ones
    SELECT
        time_bucket($every, seg_from) AS interval_start,
        apiserver,
        is_total,
        kind,
        max(in_flight) AS peak,
        max(seats) AS seats_peak,
        sum(seconds_between(seg_from, least(seg_to, time_bucket($every, seg_from) + $every)))
            FILTER (WHERE seats_full) AS full_s,
        max(seg_to) AS last_to,
        arg_max(in_flight, seg_to) AS last_in_flight,
        arg_max(seats, seg_to) AS last_seats,
        arg_max(seats_full, seg_to) AS last_full
    FROM segments
    GROUP BY ALL
),
carried AS (
    -- the intervals a last segment goes on into (it ends before last_to): at most a few rows
    -- per interval, where unnesting every segment would make one row per segment and interval
    SELECT
        interval_start,
        apiserver,
        is_total,
        kind,
        last_in_flight AS peak,
        last_seats AS seats_peak,
        CASE WHEN last_full
            THEN seconds_between(interval_start, least(last_to, interval_start + $every))
        END AS full_s
    FROM (
        SELECT
            * EXCLUDE (interval_start),
            unnest(generate_series(
                interval_start + $every,
                time_bucket($every, last_to - INTERVAL 1 MICROSECOND),
                $every
            )) AS interval_start
        FROM in_buckets
        WHERE last_to > interval_start + $every
    )
),
per_interval AS (
    SELECT
        interval_start,
        apiserver,
        is_total,
        kind,
        max(peak) AS peak,
        max(seats_peak) AS seats_peak,
        sum(full_s) AS full_s
    FROM (
        SELECT interval_start, apiserver, is_total, kind, peak, seats_peak, full_s
        FROM in_buckets
        UNION ALL
        SELECT interval_start, apiserver, is_total, kind, peak, seats_peak, full_s
        FROM carried
    )
    GROUP BY ALL
),
seated_by_server AS (
    SELECT time_bucket($every, held_from) AS interval_start, apiserver, count(*) AS seated
    FROM inflight_held
    GROUP BY ALL
),
seated AS (
    SELECT interval_start, apiserver, false AS is_total, seated
    FROM seated_by_server
    UNION ALL
    SELECT interval_start, '(total)', true, sum(seated)
    FROM seated_by_server
    GROUP BY interval_start
)
SELECT
    CAST(p.interval_start AS TIMESTAMPTZ) AS interval_start,
    CAST(p.apiserver AS VARCHAR) AS apiserver,
    CAST(coalesce(max(p.peak) FILTER (WHERE p.kind = 'readonly'), 0) AS BIGINT) AS readonly_peak,
    CAST(coalesce(max(p.peak) FILTER (WHERE p.kind = 'mutating'), 0) AS BIGINT) AS mutating_peak,
    CAST(CASE WHEN NOT p.is_total
        THEN round(coalesce(sum(p.full_s) FILTER (WHERE p.kind = 'readonly'), 0), 3)
    END AS DOUBLE) AS readonly_full_s,
    CAST(CASE WHEN NOT p.is_total
        THEN round(coalesce(sum(p.full_s) FILTER (WHERE p.kind = 'mutating'), 0), 3)
    END AS DOUBLE) AS mutating_full_s,
    CAST(coalesce(any_value(s.seated), 0) AS BIGINT) AS seated,
    CAST(p.is_total AS BOOLEAN) AS is_total,
    CAST(coalesce(max(p.seats_peak) FILTER (WHERE p.kind = 'readonly'), 0) AS BIGINT)
        AS readonly_seats_peak,
    CAST(coalesce(max(p.seats_peak) FILTER (WHERE p.kind = 'mutating'), 0) AS BIGINT)
        AS mutating_seats_peak
FROM per_interval AS p
LEFT JOIN seated AS s USING (interval_start, apiserver, is_total)
GROUP BY p.interval_start, p.apiserver, p.is_total
ORDER BY interval_start, is_total, apiserver
