-- name: _interval_span
-- The span the intervals of an over-time analysis cover (`first`, `last`), for the analyses
-- that declare `-- with: _interval_span` (it reads their `filtered`): the observation window
-- (the time the logs cover, clipped by --since and --until), begun earlier by the requests the
-- logs observed in it that were received before it (a watch opened before the log), at most a
-- day earlier. Never the span of all timestamps: a request dated 1970, or 9999, that the logs
-- did not observe in the window adds no interval. No row when nothing is filtered.
-- filters: common
SELECT
    greatest(least(min(f.received_at), o.window_start), o.window_start - INTERVAL 1 DAY) AS first,
    o.window_end AS last
FROM filtered AS f
CROSS JOIN observation_window($since, $until) AS o
WHERE coalesce(f.completed_at, f.received_at) BETWEEN o.window_start AND o.window_end
GROUP BY o.window_start, o.window_end
