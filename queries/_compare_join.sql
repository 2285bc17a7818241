-- name: _compare_join
-- `compare` (k8saudit.comparison): the two sides of queries/_compare_side.sql, registered as
-- `compare_before` and `compare_after`, side by side per group: new (only after), vanished
-- (only before), grew, shrank or the same (within --min-change of its req/s); requests and req/s on each side (each divided by its
-- own observation window), the change in req/s and the ratio after/before, the share of each
-- side's requests that got 429 and its change, and the API-server busy time per second on each
-- side, and the seconds of each side's window. Ranked by the size of the change in req/s, the biggest change in load first.
-- param: min_change DOUBLE = 0.05  -- a group whose req/s changed by less than this share of it is `same`
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH before_window AS (SELECT any_value(seconds) AS seconds FROM compare_before),
after_window AS (SELECT any_value(seconds) AS seconds FROM compare_after),
joined AS (
    SELECT
        coalesce(a.grp, b.grp) AS grp,
        coalesce(b.requests, 0) AS before_requests,
        coalesce(a.requests, 0) AS after_requests,
        coalesce(b.requests, 0) / bw.seconds AS before_req_per_s,
        coalesce(a.requests, 0) / aw.seconds AS after_req_per_s,
        b.throttled / b.requests AS before_throttled_share,
        a.throttled / a.requests AS after_throttled_share,
        coalesce(b.busy_ms, 0) / bw.seconds AS before_busy_ms_per_s,
        coalesce(a.busy_ms, 0) / aw.seconds AS after_busy_ms_per_s,
        bw.seconds AS before_seconds,
        aw.seconds AS after_seconds
    FROM compare_before AS b
    FULL JOIN compare_after AS a ON a.grp = b.grp
    CROSS JOIN before_window AS bw
    CROSS JOIN after_window AS aw
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(CASE
        WHEN before_requests = 0 THEN 'new'
        WHEN after_requests = 0 THEN 'vanished'
        WHEN abs(after_req_per_s - before_req_per_s) < $min_change * before_req_per_s THEN 'same'
        WHEN after_req_per_s > before_req_per_s THEN 'grew'
        ELSE 'shrank'
    END AS VARCHAR) AS change,
    CAST(round(coalesce(after_req_per_s, 0) - coalesce(before_req_per_s, 0), 6) AS DOUBLE)
        AS change_req_per_s,
    CAST(round(before_req_per_s, 6) AS DOUBLE) AS before_req_per_s,
    CAST(round(after_req_per_s, 6) AS DOUBLE) AS after_req_per_s,
    CAST(round(after_req_per_s / nullif(before_req_per_s, 0), 3) AS DOUBLE) AS ratio,
    CAST(round(after_throttled_share - before_throttled_share, 5) AS DOUBLE)
        AS change_throttled_share,
    CAST(round(before_throttled_share, 5) AS DOUBLE) AS before_throttled_share,
    CAST(round(after_throttled_share, 5) AS DOUBLE) AS after_throttled_share,
    CAST(before_requests AS BIGINT) AS before_requests,
    CAST(after_requests AS BIGINT) AS after_requests,
    CAST(round(before_busy_ms_per_s, 1) AS DOUBLE) AS before_busy_ms_per_s,
    CAST(round(after_busy_ms_per_s, 1) AS DOUBLE) AS after_busy_ms_per_s,
    CAST(before_seconds AS DOUBLE) AS before_seconds,
    CAST(after_seconds AS DOUBLE) AS after_seconds
FROM joined
ORDER BY abs(coalesce(after_req_per_s, 0) - coalesce(before_req_per_s, 0)) DESC, grp
LIMIT $limit
