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
-- seats it occupied while it executed (apf_iseats, 1 where not stated: _inflight_held.sql;
-- NULL where stated seats too absurd to add up exactly: _inflight_levels.sql). Reconstructed
-- exactly from each request's receipt and completion (_inflight_levels.sql), second by second
-- (_inflight_seconds.sql): --every is a whole number of seconds.
-- shape: over-time
-- chart: line
-- filters: common
-- with: _inflight_held
-- with: _inflight_levels
-- with: _inflight_seconds
-- param: every DURATION = '10s'  -- interval length in whole seconds: 1s, 10s, 1m...
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
WITH per_interval AS (
    SELECT
        utc_bucket($every, second) AS interval_start,
        apiserver,
        is_total,
        kind,
        max(peak) AS peak,
        max(seats_peak) AS seats_peak,
        sum(full_us) / 1e6 AS full_s
    FROM inflight_seconds
    -- the seconds make up the intervals only when these are whole seconds
    WHERE CASE WHEN epoch_us($every) % 1000000 <> 0
        THEN error('inflight --every: the intervals are whole seconds (1s, 10s, 1m...)')
        ELSE true END
    GROUP BY ALL
),
seated_by_server AS (
    SELECT utc_bucket($every, held_from) AS interval_start, apiserver, count(*) AS seated
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
    CAST(CASE WHEN count(*) FILTER (WHERE p.kind = 'readonly') = 0 THEN 0
        ELSE max(p.seats_peak) FILTER (WHERE p.kind = 'readonly') END AS BIGINT)
        AS readonly_seats_peak,
    CAST(CASE WHEN count(*) FILTER (WHERE p.kind = 'mutating') = 0 THEN 0
        ELSE max(p.seats_peak) FILTER (WHERE p.kind = 'mutating') END AS BIGINT)
        AS mutating_seats_peak
FROM per_interval AS p
LEFT JOIN seated AS s USING (interval_start, apiserver, is_total)
GROUP BY p.interval_start, p.apiserver, p.is_total
ORDER BY interval_start, is_total, apiserver
