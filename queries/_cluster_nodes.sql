-- name: _cluster_nodes
-- How big the cluster was in the observation window (observation_window: the time the logs
-- cover, clipped by --since and --until), whatever the other filters: its distinct nodes
-- (node_name: user.extra, or the node of a kubelet's credentials), or without node names
-- (access logs) the kubelets' source IPs; NULL when neither is known. For the analyses that
-- declare `-- with: _cluster_nodes` (fanout, capacity), with the window their rates divide by.
-- filters: common
SELECT
    o.window_s AS seconds,
    o.window_start,
    o.window_end,
    coalesce(
        nullif(count(DISTINCT r.node_name), 0),
        nullif(count(DISTINCT r.source_ip) FILTER (WHERE r.client = 'kubelet'), 0)
    ) AS nodes
FROM observation_window($since, $until) AS o
LEFT JOIN requests AS r
    ON r.received_at >= o.window_start AND r.received_at <= o.window_end
GROUP BY ALL
