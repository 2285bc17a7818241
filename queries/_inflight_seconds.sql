-- name: _inflight_seconds
-- The in-flight levels of `inflight_levels` (_inflight_levels.sql) second by second, for
-- `inflight` (any --every of whole seconds is made of them) and `inflight_peaks` (the window
-- is): per UTC second of the window, apiserver and pool, the most requests in flight at any
-- instant of it (`peak`, with the level held on into it from before), `peak_from`: the
-- earliest instant that level began at, when it began in this second (NULL when it was only
-- held on into it: it began in an earlier second, which has it), the most seats
-- (`seats_peak`), the microseconds every seat of the pool was taken (`full_us`, the pool at
-- or above its limit; NULL on the '(total)' rows, which have no limit) and `found_full`: the
-- requests received then that found every seat taken by the others in flight (those received
-- before it and not completed by then). Each level counts in the second it begins in, for the
-- part of it inside; the last level of a second (the latest end) is carried into the seconds
-- it goes on into, so a level held for an hour makes 3,600 rows. A report reads this once for
-- both (`-- keep: yes`): a few rows per second instead of one per change.
-- filters: common
-- keep: yes
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
WITH in_window AS (
    SELECT window_start, window_end FROM observation_window($since, $until)
),
segments AS (
    SELECT
        *,
        -- the UTC second it begins in, in microseconds, from the one epoch of its start: the
        -- key and the offsets within the second below are integer arithmetic (utc_bucket for
        -- each cost ~2 s more CPU on 18 M levels)
        from_us - (from_us % 1000000 + 1000000) % 1000000 AS second_us
    FROM (
        SELECT
            l.apiserver,
            l.is_total,
            l.kind,
            l.in_flight,
            l.seats_in_flight AS seats,
            l.level_from,
            greatest(l.level_from, b.window_start) AS seg_from,
            epoch_us(greatest(l.level_from, b.window_start)) AS from_us,
            least(l.level_to, b.window_end) AS seg_to,
            l.arrives AND l.in_flight - l.arrivals >= CASE l.kind
                WHEN 'readonly' THEN $max_requests_inflight
                ELSE $max_mutating_requests_inflight
            END AS found_full,
            NOT l.is_total AND l.in_flight >= CASE l.kind
                WHEN 'readonly' THEN $max_requests_inflight
                ELSE $max_mutating_requests_inflight
            END AS seats_full
        FROM inflight_levels AS l
        CROSS JOIN in_window AS b
        WHERE l.level_to >= b.window_start AND l.level_from < b.window_end
    )
),
begun_us AS (
    SELECT
        second_us,
        apiserver,
        is_total,
        kind,
        max(in_flight) AS peak,
        -- the key orders by in_flight, then the earlier instant in the second (< 2^20 us)
        arg_max(level_from, in_flight * 1048576 - (from_us - second_us)) AS peak_from,
        max(seats) AS seats_peak,
        sum(least(epoch_us(seg_to), second_us + 1000000) - from_us) FILTER (WHERE seats_full)
            AS full_us,
        count(*) FILTER (WHERE found_full) AS found_full,
        min(seg_from) AS first_from,
        max(seg_to) AS last_to,
        -- the last level (the rows of one instant share theirs), its seats and whether it
        -- filled the pool, in one value: one arg_max where three cost a third of the pass
        -- (seats below 2^31 where known: _inflight_levels.sql makes them NULL otherwise)
        arg_max(in_flight * 4294967296 + coalesce(seats, 0) * 2 + seats_full::BIGINT, seg_to)
            AS last
    FROM segments
    GROUP BY ALL
),
begun AS (
    SELECT
        utc_bucket(INTERVAL 1 SECOND, first_from) AS second, * EXCLUDE (second_us, first_from)
    FROM begun_us
),
carried AS (
    -- the seconds a last level goes on into (it ends after the second it begins in)
    SELECT
        second,
        apiserver,
        is_total,
        kind,
        last // 4294967296 AS peak,
        CASE WHEN seats_peak IS NOT NULL THEN last % 4294967296 // 2 END AS seats_peak,
        CASE WHEN last % 2 = 1
            THEN epoch_us(least(last_to, second + INTERVAL 1 SECOND)) - epoch_us(second)
        END AS full_us
    FROM (
        SELECT
            * EXCLUDE (second),
            unnest(generate_series(
                second + INTERVAL 1 SECOND,
                utc_bucket(INTERVAL 1 SECOND, last_to - INTERVAL 1 MICROSECOND),
                INTERVAL 1 SECOND
            )) AS second
        FROM begun
        WHERE last_to > second + INTERVAL 1 SECOND
    )
)
SELECT
    second,
    apiserver,
    is_total,
    kind,
    max(peak) AS peak,
    -- the level that began in the second (one row: begun's) is the second's peak, or none
    CASE WHEN max(peak) FILTER (WHERE peak_from IS NOT NULL) = max(peak) THEN min(peak_from) END
        AS peak_from,
    max(seats_peak) AS seats_peak,
    CASE WHEN NOT is_total THEN coalesce(sum(full_us), 0) END AS full_us,
    coalesce(sum(found_full), 0) AS found_full
FROM (
    SELECT second, apiserver, is_total, kind, peak, peak_from, seats_peak, full_us, found_full
    FROM begun
    UNION ALL
    SELECT second, apiserver, is_total, kind, peak, NULL, seats_peak, full_us, 0
    FROM carried
)
GROUP BY second, apiserver, is_total, kind
