-- name: fanout
-- Which clients (or --by user, resource...) grow with the cluster: those whose sources run on at
-- least --min-coverage of the nodes seen in the data (one per node is a DaemonSet; more than one
-- per node, e.g. a sidecar in every pod, grows faster), with the nodes they run on, their sources
-- and sources per node, req/s in total and per source, and the load each node adds: req/s and
-- API-server milliseconds per second (latency of non-long-running requests) per node. Ranked by
-- the API-server time each node adds.
-- shape: grouped
-- chart: bar
-- filters: common
-- with: _cluster_nodes
-- param: min_coverage DOUBLE = 0.5  -- only groups seen on at least this share of the nodes (0.5: half)
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
-- cli: limit = 20

WITH
-- One row per group:
--   nodes               distinct nodes the group's requests came from (node_name: user.extra,
--                       or the node of a kubelet's credentials); without node names (access
--                       logs), its distinct sources stand in
--   cluster_nodes       the nodes seen in the window (queries/_cluster_nodes.sql)
--   node_share          nodes / cluster_nodes
--   sources             distinct sources (pod on its node, else node, else source IP, else
--                       username: the rule of queries/_series.sql); sources_per_node is
--                       sources / nodes
--   req_per_s           requests per second over the observation window
--   source_req_per_s    req_per_s / sources
--   node_req_per_s      req_per_s / nodes: the requests each node it runs on adds
--   node_busy_ms_per_s  API-server milliseconds per second each node adds
--   requests, request_share, time_share, busy_s, and the window (window_start, window_end)
totals AS (
    SELECT count(*) AS requests, sum(latency_ms) FILTER (WHERE NOT is_long_running) AS busy_ms
    FROM filtered
),
per_group AS (
    SELECT
        grp,
        count(*) AS requests,
        coalesce(sum(latency_ms) FILTER (WHERE NOT is_long_running), 0) AS busy_ms,
        count(DISTINCT request_source(node_name, pod_name, source_ip, username)) AS sources,
        count(DISTINCT node_name) AS named_nodes
    FROM filtered
    GROUP BY grp
),
measured AS (
    SELECT
        g.*,
        CASE WHEN g.named_nodes > 0 THEN g.named_nodes ELSE g.sources END AS nodes,
        c.nodes AS cluster_nodes,
        c.seconds,
        c.window_start,
        c.window_end,
        t.requests AS all_requests,
        t.busy_ms AS all_busy_ms
    FROM per_group AS g
    CROSS JOIN cluster_nodes AS c
    CROSS JOIN totals AS t
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(nodes AS BIGINT) AS nodes,
    CAST(cluster_nodes AS BIGINT) AS cluster_nodes,
    CAST(round(nodes / cluster_nodes, 4) AS DOUBLE) AS node_share,
    CAST(sources AS BIGINT) AS sources,
    CAST(round(sources / nodes, 3) AS DOUBLE) AS sources_per_node,
    CAST(round(requests / seconds, 3) AS DOUBLE) AS req_per_s,
    CAST(round(requests / seconds / sources, 4) AS DOUBLE) AS source_req_per_s,
    CAST(round(requests / seconds / nodes, 4) AS DOUBLE) AS node_req_per_s,
    CAST(round(busy_ms / seconds / nodes, 3) AS DOUBLE) AS node_busy_ms_per_s,
    CAST(requests AS BIGINT) AS requests,
    CAST(round(requests / all_requests, 5) AS DOUBLE) AS request_share,
    CAST(round(coalesce(busy_ms / nullif(all_busy_ms, 0), 0), 5) AS DOUBLE) AS time_share,
    CAST(round(busy_ms / 1000, 3) AS DOUBLE) AS busy_s,
    CAST(window_start AS TIMESTAMPTZ) AS window_start,
    CAST(window_end AS TIMESTAMPTZ) AS window_end
FROM measured
WHERE cluster_nodes > 1 AND nodes >= $min_coverage * cluster_nodes
ORDER BY node_busy_ms_per_s DESC, node_req_per_s DESC, grp
LIMIT $limit
