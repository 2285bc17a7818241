-- name: capacity
-- What the API server would carry at --nodes N: each client's (or --by user, resource...)
-- req/s and API-server time now and projected to N nodes, with the model each row uses and
-- why. A group on at least --min-coverage of the nodes seen (a DaemonSet: see fanout) sends
-- more requests with every node; the others keep their rate. A cluster-wide LIST returns every
-- object, and a bigger cluster has more of them, so its cost per request grows with the nodes
-- too: for a DaemonSet's cluster-wide LISTs the cost grows with the square of the nodes.
-- `seats` is the mean number of kube-apiserver's max-inflight seats a group holds on each
-- apiserver (API-server seconds per second, Little's law; the peaks are higher: see
-- inflight-peaks); the last row, the total, says whether the mean alone would pass
-- --max-requests-inflight or --max-mutating-requests-inflight at N nodes.
-- shape: grouped
-- chart: bar
-- filters: common
-- with: _cluster_nodes
-- param: nodes INTEGER = 1000  -- the cluster size to project to
-- param: min_coverage DOUBLE = 0.5  -- groups on at least this share of the nodes grow with them (0.5: half)
-- param: max_requests_inflight INTEGER = 400  -- the readonly limit of each apiserver
-- param: max_mutating_requests_inflight INTEGER = 200  -- the mutating limit of each apiserver
-- param: limit INTEGER = NULL  -- at most this many groups (0: all); the total row is always shown
-- cli: limit = 20
-- table: grp, model, req_per_s, projected_req_per_s, projected_seats, over_limit, why

WITH
-- One row per group, then the total (is_total):
--   model                  how the group's load grows with the nodes: 'per node' (its rate
--                          grows with them), 'objects' (its rate stays, its cluster-wide LISTs
--                          cost more with the objects), 'per node x objects' (both: with the
--                          square of the nodes), 'fixed'; NULL when the cluster's size is
--                          unknown (no node names, no kubelets: nothing is projected)
--   why                    the nodes the group ran on of those seen, and its cluster-wide LISTs
--   nodes, cluster_nodes   as in fanout: distinct nodes of the group (else its sources), and of
--                          the window; target_nodes is --nodes
--   req_per_s, projected_req_per_s          over the observation window
--   seats, projected_seats                  mean seats held per apiserver, both pools
--   projected_readonly_seats, projected_mutating_seats   the same per pool
--   growth                 projected / current API-server time
--   projected_time_share   the group's share of all API-server time at N nodes
--   over_limit             a projected pool's mean seats alone at or above its limit
--   requests, busy_s, apiservers (the seats divide by them), and the window
groups AS (
    -- the nodes a group ran on; without node names its sources stand in (as in fanout)
    SELECT
        grp,
        coalesce(
            nullif(count(DISTINCT node_name), 0),
            count(DISTINCT request_source(node_name, pod_name, source_ip, username))
        ) AS group_nodes
    FROM filtered
    GROUP BY grp
),
parts AS (
    -- a group's requests by what scales: cluster-wide LISTs or not, and the seat pool
    SELECT
        grp,
        verb = 'list' AND scope = 'cluster' AS cluster_list,
        verb IN ('get', 'list', 'watch') AS readonly,
        count(*) AS requests,
        coalesce(sum(latency_ms) FILTER (WHERE NOT is_long_running), 0) AS busy_ms
    FROM filtered
    GROUP BY ALL
),
apiservers AS (
    SELECT greatest(count(DISTINCT apiserver), 1) AS apiservers FROM filtered
),
scaled AS (
    SELECT
        p.*,
        g.group_nodes,
        g.group_nodes >= $min_coverage * c.nodes AS node_scaled,
        c.nodes AS cluster_nodes,
        CASE
            WHEN c.nodes < 2 THEN NULL
            WHEN g.group_nodes >= $min_coverage * c.nodes THEN $nodes / c.nodes
            ELSE 1
        END AS rate_factor,
        CASE WHEN c.nodes < 2 THEN NULL WHEN p.cluster_list THEN $nodes / c.nodes ELSE 1 END
            AS cost_factor
    FROM parts AS p
    JOIN groups AS g USING (grp)
    CROSS JOIN cluster_nodes AS c
),
per_group AS (
    SELECT
        grp,
        false AS is_total,
        CASE
            WHEN any_value(cluster_nodes) IS NULL OR any_value(cluster_nodes) < 2 THEN NULL
            WHEN bool_or(node_scaled) AND bool_or(cluster_list)
                THEN 'per node x objects'
            WHEN bool_or(node_scaled) THEN 'per node'
            WHEN bool_or(cluster_list) THEN 'objects'
            ELSE 'fixed'
        END AS model,
        concat_ws(
            ', ',
            printf('on %d of %s nodes', any_value(group_nodes),
                coalesce(CAST(any_value(cluster_nodes) AS VARCHAR), '?')),
            CASE WHEN bool_or(cluster_list) THEN
                printf('%.0f%% of its time in cluster-wide LISTs',
                    100 * sum(busy_ms) FILTER (WHERE cluster_list) / nullif(sum(busy_ms), 0))
            END
        ) AS why,
        any_value(group_nodes) AS nodes,
        any_value(cluster_nodes) AS cluster_nodes,
        sum(requests) AS requests,
        sum(busy_ms) AS busy_ms,
        sum(requests * rate_factor) AS projected_requests,
        sum(busy_ms * rate_factor * cost_factor) AS projected_busy_ms,
        sum(busy_ms * rate_factor * cost_factor) FILTER (WHERE readonly) AS projected_readonly_ms,
        sum(busy_ms * rate_factor * cost_factor) FILTER (WHERE NOT readonly)
            AS projected_mutating_ms
    FROM scaled
    GROUP BY grp
),
ranked AS (
    SELECT * FROM per_group
    ORDER BY coalesce(projected_busy_ms, busy_ms) DESC, requests DESC, grp
    LIMIT $limit
),
total AS (
    SELECT
        '(total)' AS grp,
        true AS is_total,
        NULL AS model,
        printf('%d groups', count(*)) AS why,
        NULL AS nodes,
        any_value(cluster_nodes) AS cluster_nodes,
        sum(requests) AS requests,
        sum(busy_ms) AS busy_ms,
        sum(projected_requests) AS projected_requests,
        sum(projected_busy_ms) AS projected_busy_ms,
        sum(projected_readonly_ms) AS projected_readonly_ms,
        sum(projected_mutating_ms) AS projected_mutating_ms
    FROM per_group
    HAVING count(*) > 0
),
rows AS (
    SELECT r.*, (SELECT sum(projected_busy_ms) FROM per_group) AS all_projected_busy_ms
    FROM (SELECT * FROM ranked UNION ALL SELECT * FROM total) AS r
),
measured AS (
    SELECT
        r.*,
        c.seconds,
        c.window_start,
        c.window_end,
        a.apiservers,
        -- seats held on average on each apiserver: API-server seconds per second
        r.busy_ms / 1000 / c.seconds / a.apiservers AS seats,
        r.projected_busy_ms / 1000 / c.seconds / a.apiservers AS projected_seats,
        coalesce(r.projected_readonly_ms, 0) / 1000 / c.seconds / a.apiservers
            AS projected_readonly_seats,
        coalesce(r.projected_mutating_ms, 0) / 1000 / c.seconds / a.apiservers
            AS projected_mutating_seats
    FROM rows AS r
    CROSS JOIN cluster_nodes AS c
    CROSS JOIN apiservers AS a
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(model AS VARCHAR) AS model,
    CAST(why AS VARCHAR) AS why,
    CAST(nodes AS BIGINT) AS nodes,
    CAST(cluster_nodes AS BIGINT) AS cluster_nodes,
    CAST($nodes AS BIGINT) AS target_nodes,
    CAST(round(requests / seconds, 3) AS DOUBLE) AS req_per_s,
    CAST(round(projected_requests / seconds, 3) AS DOUBLE) AS projected_req_per_s,
    CAST(round(seats, 1) AS DOUBLE) AS seats,
    CAST(round(projected_seats, 1) AS DOUBLE) AS projected_seats,
    CAST(round(projected_readonly_seats, 1) AS DOUBLE) AS projected_readonly_seats,
    CAST(round(projected_mutating_seats, 1) AS DOUBLE) AS projected_mutating_seats,
    CAST(round(projected_busy_ms / nullif(busy_ms, 0), 3) AS DOUBLE) AS growth,
    CAST(round(coalesce(projected_busy_ms / nullif(all_projected_busy_ms, 0), 0), 5) AS DOUBLE)
        AS projected_time_share,
    CAST(
        projected_readonly_seats >= $max_requests_inflight
        OR projected_mutating_seats >= $max_mutating_requests_inflight AS BOOLEAN
    ) AS over_limit,
    CAST(is_total AS BOOLEAN) AS is_total,
    CAST(requests AS BIGINT) AS requests,
    CAST(round(busy_ms / 1000, 3) AS DOUBLE) AS busy_s,
    CAST(apiservers AS BIGINT) AS apiservers,
    CAST(window_start AS TIMESTAMPTZ) AS window_start,
    CAST(window_end AS TIMESTAMPTZ) AS window_end
FROM measured
ORDER BY is_total, coalesce(projected_busy_ms, busy_ms) DESC, requests DESC, grp
