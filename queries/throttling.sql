-- name: throttling
-- Who was throttled (HTTP 429 from API Priority and Fairness or max-inflight): per client (or
-- --by user, verb...) its 429s, the share of its own requests that got 429 and its share of
-- all 429s, the busiest minute of 429s, when they started and ended, and the APF priority level
-- and flow schema of those requests where the access log states them.
-- shape: grouped
-- chart: bar
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH totals AS (
    SELECT count(*) FILTER (WHERE code = 429) AS throttled FROM filtered
),
per_minute AS (
    SELECT grp, utc_bucket(INTERVAL 1 MINUTE, received_at) AS minute, count(*) AS throttled
    FROM filtered
    WHERE code = 429
    GROUP BY ALL
),
per_group AS (
    SELECT
        grp,
        count(*) AS requests,
        count(*) FILTER (WHERE code = 429) AS throttled,
        min(received_at) FILTER (WHERE code = 429) AS first_429,
        max(received_at) FILTER (WHERE code = 429) AS last_429,
        mode(apf_priority_level) FILTER (WHERE code = 429) AS apf_priority_level,
        mode(apf_flow_schema) FILTER (WHERE code = 429) AS apf_flow_schema
    FROM filtered
    GROUP BY grp
)
SELECT
    CAST(g.grp AS VARCHAR) AS grp,
    CAST(g.throttled AS BIGINT) AS throttled,
    CAST(round(g.throttled / g.requests, 5) AS DOUBLE) AS throttled_request_share,
    CAST(round(coalesce(g.throttled / nullif(t.throttled, 0), 0), 5) AS DOUBLE) AS throttled_share,
    CAST(coalesce(max(m.throttled), 0) AS BIGINT) AS peak_per_minute,
    CAST(g.requests AS BIGINT) AS requests,
    CAST(g.apf_priority_level AS VARCHAR) AS apf_priority_level,
    CAST(g.apf_flow_schema AS VARCHAR) AS apf_flow_schema,
    CAST(g.first_429 AS TIMESTAMPTZ) AS first_429,
    CAST(g.last_429 AS TIMESTAMPTZ) AS last_429
FROM per_group AS g
CROSS JOIN totals AS t
LEFT JOIN per_minute AS m USING (grp)
WHERE g.throttled > 0
GROUP BY ALL
ORDER BY throttled DESC, grp
LIMIT $limit
