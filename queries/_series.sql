-- name: _series
-- Every request of `filtered` as a beat of its series and its source, for the analyses that
-- declare `-- with: _series` (pollers). A series is one client repeating one request:
-- (client, identity, verb, resource, subresource, scope, selector, object). Its parts:
--   identity  the username with node names collapsed (system:node:*) and generated pod-name
--             suffixes too (a ReplicaSet's -7d4b9c8f6-x7k2q, a DaemonSet's -x7k2q: Kubernetes
--             draws them from an alphabet without vowels, so words like -proxy stay)
--   selector  which selectors the request has: label, field, label+field, or NULL
--   object    for a GET of one object: '(own node)' / '(own pod)' when a source reads the node
--             or pod it runs as (a DaemonSet's agents each read their own node: one series),
--             the object's name when the source reads that one object only, '(several)' when
--             it reads many (a per-object GET flood stays one series); NULL for other verbs
-- A source is the finest identity a request has: the pod on its node (user.extra: a pod name
-- alone is unique only in its namespace and time), else the node, else the source IP, else the
-- username (queries/fanout.sql counts sources by the same rule).
-- `series_id` hashes the series' parts and `source_id` those and the source, so windows
-- partition on one number instead of nine strings.
WITH keyed AS (
    SELECT
        received_at,
        code,
        latency_ms,
        is_long_running,
        client,
        regexp_replace(
            coalesce(identity, '-'),
            '-(?:[bcdfghjklmnpqrstvwxz2456789]{6,10}-)?[bcdfghjklmnpqrstvwxz2456789]{5}$',
            '-*'
        ) AS identity,
        verb,
        resource,
        subresource,
        scope,
        name,
        resource_version,
        CASE
            WHEN label_selector IS NOT NULL AND field_selector IS NOT NULL THEN 'label+field'
            WHEN label_selector IS NOT NULL THEN 'label'
            WHEN field_selector IS NOT NULL THEN 'field'
        END AS selector,
        node_name,
        pod_name,
        request_source(node_name, pod_name, source_ip, username) AS source
    FROM filtered
),
one_object AS (
    -- the sources that GET one object only, per operation
    SELECT
        hash(client, identity, verb, resource, subresource, scope, selector, source) AS operation,
        min(name) = max(name) AS single
    FROM keyed
    WHERE verb = 'get' AND scope = 'object'
    GROUP BY ALL
),
objects AS (
    SELECT
        k.*,
        CASE
            WHEN k.verb <> 'get' OR k.scope <> 'object' THEN NULL
            WHEN k.name = k.node_name THEN '(own node)'
            WHEN k.name = k.pod_name THEN '(own pod)'
            WHEN o.single THEN k.name
            ELSE '(several)'
        END AS object
    FROM keyed AS k
    LEFT JOIN one_object AS o
        ON k.verb = 'get' AND k.scope = 'object'
        AND o.operation = hash(
            k.client, k.identity, k.verb, k.resource, k.subresource, k.scope, k.selector, k.source
        )
)
SELECT
    *,
    hash(client, identity, verb, resource, subresource, scope, selector, object) AS series_id,
    hash(client, identity, verb, resource, subresource, scope, selector, object, source)
        AS source_id
FROM objects
