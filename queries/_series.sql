-- name: _series
-- The requests of `filtered` counted by cell (`request_cell` in k8saudit/sql/macros.sql: the
-- requests alike in all that makes a series and its source), each cell with its series and
-- source, for the analyses that declare `-- with: _series` (pollers). Keying the few cells, not
-- every request, keeps the string work off the requests: an analysis joins a request to its
-- cell by `cell`. A series is one client repeating one request: (client, identity, verb,
-- resource, subresource, scope, selector, object). Its parts:
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
-- partition on one number instead of nine strings. Per cell: requests, busy_ms (latency of
-- non-long-running requests), throttled (429s) and from_cache (resourceVersion=0).
WITH cells AS (
    SELECT
        request_cell(
            client, identity, verb, resource, subresource, scope, label_selector,
            field_selector, node_name, pod_name, source_ip, username, name
        ) AS cell,
        any_value(client) AS client,
        any_value(identity) AS raw_identity,
        any_value(verb) AS verb,
        any_value(resource) AS resource,
        any_value(subresource) AS subresource,
        any_value(scope) AS scope,
        any_value(label_selector IS NOT NULL) AS has_label,
        any_value(field_selector IS NOT NULL) AS has_field,
        any_value(node_name) AS node_name,
        any_value(pod_name) AS pod_name,
        any_value(source_ip) AS source_ip,
        any_value(username) AS username,
        any_value(name) AS name,
        count(*) AS requests,
        coalesce(sum(latency_ms) FILTER (WHERE NOT is_long_running), 0) AS busy_ms,
        count(*) FILTER (WHERE code = 429) AS throttled,
        count(*) FILTER (WHERE resource_version = '0') AS from_cache
    FROM filtered
    GROUP BY cell
),
keyed AS (
    SELECT
        * EXCLUDE (raw_identity, has_label, has_field),
        regexp_replace(
            coalesce(raw_identity, '-'),
            '-(?:[bcdfghjklmnpqrstvwxz2456789]{6,10}-)?[bcdfghjklmnpqrstvwxz2456789]{5}$',
            '-*'
        ) AS identity,
        CASE
            WHEN has_label AND has_field THEN 'label+field'
            WHEN has_label THEN 'label'
            WHEN has_field THEN 'field'
        END AS selector,
        request_source(node_name, pod_name, source_ip, username) AS source
    FROM cells
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
