-- name: pollers
-- Who polls the API server, how often and from how many places: each series (client, identity
-- with node and pod names collapsed, verb, resource, scope, selector, object for one-object
-- GETs) with its period and jitter (median and median absolute deviation of the time between a
-- source's requests, so jitter, missed beats and retries after 429 do not move it), whether it
-- is periodic, its sources (one per node: a DaemonSet), per-source and total req/s over the
-- observation window, shares of requests, API-server time and 429s, and its cost class
-- (cluster-wide LIST from etcd or from the watch cache, cluster-wide or selector-scoped WATCH
-- with the relists per watch, hot loop on one object...). Node leases, node status, leader
-- election and the control plane's own controllers are labelled expected and listed after the
-- rest; each part ranked by load (its larger share of requests or of API-server time). Series
-- below --min-share of both are left out.
-- shape: grouped
-- chart: bar
-- filters: common
-- with: _series
-- with: _window_totals
-- param: min_share DOUBLE = 0.005  -- only series with at least this share of requests or of API-server time (0.005: 0.5%)
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
-- cli: limit = 20
-- table: client, operation, period_s, sources, req_per_s, time_share, cost_class

WITH
-- One row per series (see queries/_series.sql for how requests are keyed and what a source is):
--   client, operation  who, and VERB resource[/subresource] scope [by selector] [object]
--                      [as identity] (the identity only when the client has several)
--   period_s           per source the median time between its beats, then the median over
--                      the sources; NULL when no source sent two
--   jitter_s           median absolute deviation of those times from period_s (ticks moved at
--                      random by up to +-j give about 0.59 j)
--   sources            distinct sources: pod on its node, else node, else source IP, else
--                      username
--   req_per_s          requests per second over the observation window, all sources together
--   time_share         share of all API-server time (latency of non-long-running requests)
--   cost_class         what the requests cost, the first that applies:
--       'cluster-wide LIST from etcd'         LIST of all namespaces, mostly without
--                                             resourceVersion=0: a quorum read of every object
--                                             (before ConsistentListFromCache)
--       'cluster-wide LIST from watch cache'  the same, mostly with resourceVersion=0
--       'cluster-wide WATCH'                  a watch of every object (see lists_per_watch)
--       'selector-scoped WATCH'               a watch with a label or field selector
--       'hot loop on one object'              period_s <= 2 s and each source on one object
--                                             (never expected traffic: leader election renews
--                                             every 2 s by design)
--       'namespaced LIST', 'namespaced WATCH', 'per-object', 'other'
--   periodic           not a WATCH (its "period" is how long watches last), at least 10
--                      intervals measured and regularity >= 0.75: a poller with 10% jitter
--                      scores about 0.95, Poisson traffic about 0.31
--   expected           legitimate periodic traffic: 'node lease', 'node status' and 'pod
--                      status' (a node's own credentials), 'leader election' (leases, .../leader-election
--                      clients), 'control plane' (kube-controller-manager, kube-scheduler,
--                      cloud-controller-manager); expected_reason says which, NULL if none
--   regularity         1 - jitter_s / period_s, 0 (no rhythm) to 1 (a metronome); NULL when
--                      fewer than 10 intervals were measured
--   source_req_per_s   req_per_s / sources: what one source sends
--   requests, request_share, busy_s (API-server seconds), throttled (429s), throttled_share
--   (share of all 429s), lists_per_watch (LISTs per WATCH of the same client, identity,
--   resource, scope and selector, on both rows: 1 means every reconnect relists), from_cache
--   (share of LISTs/GETs with resourceVersion=0), objects (distinct object names), intervals
--   (times between beats measured), the series' parts (identity, verb, resource, subresource,
--   scope, selector, object) and the observation window (window_start, window_end).
-- A request right after a 429 or 5xx from the same source in the same series is a retry, not a
-- beat: the time to it is not measured, the next beat's is measured from the request before.
thresholds AS (
    SELECT 10 AS min_intervals, 0.75 AS min_regularity, 2.0 AS hot_loop_s
),
stream AS (
    -- each request as a beat of its source, joined to its cell by number
    SELECT s.series_id, s.source_id, f.received_at, f.code
    FROM filtered AS f
    JOIN series AS s
        ON s.cell = request_cell(
            f.client, f.identity, f.verb, f.resource, f.subresource, f.scope, f.label_selector,
            f.field_selector, f.node_name, f.pod_name, f.source_ip, f.username, f.name
        )
),
attempts AS (
    SELECT series_id, source_id, received_at, lag(code) OVER by_source AS previous_code
    FROM stream
    WINDOW by_source AS (PARTITION BY source_id ORDER BY received_at)
),
beats AS MATERIALIZED (
    SELECT
        series_id,
        source_id,
        seconds_between(lag(received_at) OVER by_source, received_at) AS interval_s
    FROM attempts
    WHERE NOT coalesce(previous_code = 429 OR previous_code >= 500, false)
    WINDOW by_source AS (PARTITION BY source_id ORDER BY received_at)
),
per_source AS (
    SELECT series_id, count(interval_s) AS intervals, median(interval_s) AS period_s
    FROM beats
    GROUP BY series_id, source_id
),
source_objects AS (
    SELECT series_id, source_id, count(DISTINCT name) AS objects
    FROM series
    GROUP BY series_id, source_id
),
periods AS (
    SELECT
        p.series_id,
        median(p.period_s) AS period_s,
        sum(p.intervals) AS intervals,
        any_value(o.objects_per_source) AS objects_per_source
    FROM per_source AS p
    JOIN (
        SELECT series_id, max(objects) AS objects_per_source FROM source_objects GROUP BY ALL
    ) AS o USING (series_id)
    GROUP BY p.series_id
),
jitters AS (
    SELECT b.series_id, median(abs(b.interval_s - p.period_s)) AS jitter_s
    FROM beats AS b
    JOIN periods AS p USING (series_id)
    GROUP BY b.series_id
),
per_series AS MATERIALIZED (
    SELECT
        series_id,
        client,
        identity,
        verb,
        resource,
        subresource,
        scope,
        selector,
        object,
        sum(requests) AS requests,
        count(DISTINCT source) AS sources,
        count(DISTINCT name) AS objects,
        sum(busy_ms) AS busy_ms,
        sum(throttled) AS throttled,
        sum(from_cache) / sum(requests) AS from_cache
    FROM series
    GROUP BY ALL
),
relists AS (
    SELECT w.series_id AS watch_id, l.series_id AS list_id, l.requests / w.requests AS ratio
    FROM per_series AS w
    JOIN per_series AS l
        ON l.client IS NOT DISTINCT FROM w.client
        AND l.identity = w.identity
        AND l.resource IS NOT DISTINCT FROM w.resource
        AND l.scope IS NOT DISTINCT FROM w.scope
        AND l.selector IS NOT DISTINCT FROM w.selector
    WHERE w.verb = 'watch' AND l.verb = 'list'
),
expected AS (
    SELECT
        series_id,
        CASE
            WHEN resource = 'leases' AND identity = 'system:node:*' THEN 'node lease'
            WHEN resource = 'nodes' AND identity = 'system:node:*'
                AND verb IN ('get', 'update', 'patch')
                AND (subresource = 'status' OR object = '(own node)') THEN 'node status'
            WHEN resource = 'pods' AND subresource = 'status' AND identity = 'system:node:*'
                THEN 'pod status'
            WHEN resource = 'leases' AND verb IN ('get', 'create', 'update', 'patch')
                THEN 'leader election'
            WHEN client LIKE '%/leader-election' THEN 'leader election'
            WHEN split_part(client, '/', 1) IN (
                'kube-controller-manager', 'kube-scheduler', 'cloud-controller-manager'
            ) THEN 'control plane'
        END AS reason
    FROM per_series
),
measured AS (
    SELECT
        s.*,
        p.period_s,
        j.jitter_s,
        coalesce(p.intervals, 0) AS intervals,
        p.objects_per_source,
        CASE WHEN p.intervals >= t.min_intervals
            THEN greatest(0, 1 - j.jitter_s / nullif(p.period_s, 0))
        END AS regularity,
        coalesce(rw.ratio, rl.ratio) AS lists_per_watch,
        e.reason AS expected_reason
    FROM per_series AS s
    CROSS JOIN thresholds AS t
    LEFT JOIN periods AS p USING (series_id)
    LEFT JOIN jitters AS j USING (series_id)
    LEFT JOIN relists AS rw ON rw.watch_id = s.series_id
    LEFT JOIN relists AS rl ON rl.list_id = s.series_id
    LEFT JOIN expected AS e ON e.series_id = s.series_id
),
classified AS (
    SELECT
        m.*,
        CASE
            WHEN verb = 'list' AND scope = 'cluster' AND from_cache < 0.5
                THEN 'cluster-wide LIST from etcd'
            WHEN verb = 'list' AND scope = 'cluster' THEN 'cluster-wide LIST from watch cache'
            WHEN verb = 'watch' AND scope = 'cluster' AND selector IS NULL
                THEN 'cluster-wide WATCH'
            WHEN verb = 'watch' AND selector IS NOT NULL THEN 'selector-scoped WATCH'
            WHEN expected_reason IS NULL AND scope = 'object' AND period_s <= t.hot_loop_s
                AND objects_per_source = 1 THEN 'hot loop on one object'
            WHEN verb = 'list' THEN 'namespaced LIST'
            WHEN verb = 'watch' THEN 'namespaced WATCH'
            WHEN scope = 'object' THEN 'per-object'
            ELSE 'other'
        END AS cost_class,
        coalesce(verb <> 'watch' AND regularity >= t.min_regularity, false) AS periodic,
        concat_ws(
            ' ',
            upper(verb),
            concat_ws('/', resource, subresource),
            scope,
            'by ' || selector,
            object,
            CASE WHEN min(identity) OVER by_client <> max(identity) OVER by_client
                THEN 'as ' || identity
            END
        ) AS operation
    FROM measured AS m
    CROSS JOIN thresholds AS t
    WINDOW by_client AS (PARTITION BY client)
),
ranked AS (
    SELECT
        c.*,
        c.requests / w.requests AS request_share,
        coalesce(c.busy_ms / nullif(w.busy_ms, 0), 0) AS time_share,
        coalesce(c.throttled / nullif(w.throttled, 0), 0) AS throttled_share,
        c.requests / w.seconds AS req_per_s,
        w.window_start,
        w.window_end
    FROM classified AS c
    CROSS JOIN window_totals AS w
)
SELECT
    CAST(client AS VARCHAR) AS client,
    CAST(operation AS VARCHAR) AS operation,
    CAST(round(period_s, 3) AS DOUBLE) AS period_s,
    CAST(round(jitter_s, 3) AS DOUBLE) AS jitter_s,
    CAST(sources AS BIGINT) AS sources,
    CAST(round(req_per_s, 3) AS DOUBLE) AS req_per_s,
    CAST(round(time_share, 5) AS DOUBLE) AS time_share,
    CAST(cost_class AS VARCHAR) AS cost_class,
    CAST(periodic AS BOOLEAN) AS periodic,
    CAST(expected_reason IS NOT NULL AS BOOLEAN) AS expected,
    CAST(expected_reason AS VARCHAR) AS expected_reason,
    CAST(round(regularity, 3) AS DOUBLE) AS regularity,
    CAST(round(req_per_s / sources, 4) AS DOUBLE) AS source_req_per_s,
    CAST(requests AS BIGINT) AS requests,
    CAST(round(request_share, 5) AS DOUBLE) AS request_share,
    CAST(round(busy_ms / 1000, 3) AS DOUBLE) AS busy_s,
    CAST(throttled AS BIGINT) AS throttled,
    CAST(round(throttled_share, 5) AS DOUBLE) AS throttled_share,
    CAST(round(lists_per_watch, 3) AS DOUBLE) AS lists_per_watch,
    CAST(round(from_cache, 3) AS DOUBLE) AS from_cache,
    CAST(objects AS BIGINT) AS objects,
    CAST(intervals AS BIGINT) AS intervals,
    CAST(identity AS VARCHAR) AS identity,
    CAST(verb AS VARCHAR) AS verb,
    CAST(resource AS VARCHAR) AS resource,
    CAST(subresource AS VARCHAR) AS subresource,
    CAST(scope AS VARCHAR) AS scope,
    CAST(selector AS VARCHAR) AS selector,
    CAST(object AS VARCHAR) AS object,
    CAST(window_start AS TIMESTAMPTZ) AS window_start,
    CAST(window_end AS TIMESTAMPTZ) AS window_end
FROM ranked
WHERE greatest(request_share, time_share) >= $min_share
ORDER BY expected, greatest(request_share, time_share) DESC, requests DESC, client, operation
LIMIT $limit
