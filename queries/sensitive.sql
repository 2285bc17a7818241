-- name: sensitive
-- What a security responder looks at first, one finding per row, each saying why it is listed:
-- changes to the cluster-admin role or its binding and every other RBAC change (roles,
-- bindings, bind/escalate), exec/attach/port-forward into pods, anonymous requests,
-- impersonation (who acted as whom), Secret reads and lists (who, which, how many distinct),
-- 401/403 denials per user and bursts of them (--burst denials or more to one user within
-- one --burst-window, windows aligned to the clock). Users are grouped as `identity` (node
-- names collapsed to system:node:*). Which role a binding grants and whether a pod is
-- privileged are in the request bodies, which the dataset does not keep.
-- shape: listing
-- filters: common
-- param: burst INTEGER = 10  -- a denial burst: this many 401/403 answers to one user in a window
-- param: burst_window DURATION = '1m'  -- the windows denial bursts are counted in: 10s, 1m, 5m...
-- param: limit INTEGER = NULL  -- at most this many findings, the first ones (0: all)
WITH marked AS (
    SELECT
        *,
        coalesce(identity, username, '-') AS actor,
        coalesce(nullif(concat_ws('/', namespace, name), ''), '*') AS object
    FROM filtered
),
denied_operations AS (
    SELECT
        actor, impersonated_user, code,
        first_few(
            list(format('{} ({})', operation, requests) ORDER BY requests DESC, operation), 3
        ) AS operations
    FROM (
        SELECT
            actor, impersonated_user, code, count(*) AS requests,
            format(
                '{} {}', verb, coalesce(nullif(concat_ws('/', resource, subresource), ''), path)
            ) AS operation
        FROM marked
        WHERE code IN (401, 403)
        GROUP BY ALL
    )
    GROUP BY ALL
),
findings AS (
    SELECT
        CASE WHEN name = 'cluster-admin' THEN 'cluster-admin' ELSE 'rbac-change' END AS finding,
        CASE WHEN name = 'cluster-admin' THEN 0 ELSE 1 END AS rank,
        format('{} {} {}', verb, resource, object) || CASE
            WHEN name = 'cluster-admin' AND resource IN ('clusterroles', 'roles')
                THEN ' (the cluster-admin role)'
            WHEN name = 'cluster-admin' THEN ' (the cluster-admin binding)'
            ELSE ''
        END AS why,
        actor, impersonated_user,
        count(*) AS requests,
        count(DISTINCT object) AS objects,
        count(*) FILTER (WHERE code IN (401, 403)) AS denied,
        min(received_at) AS first_seen,
        max(received_at) AS last_seen,
        arg_min(audit_id, received_at) AS audit_id
    FROM marked
    WHERE api_group = 'rbac.authorization.k8s.io'
      AND resource IN ('roles', 'clusterroles', 'rolebindings', 'clusterrolebindings')
      AND verb IN ('create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate')
    GROUP BY ALL
    UNION ALL
    SELECT
        'exec', 2,
        format(
            '{} into pods: {}', subresource, first_few(list(DISTINCT object ORDER BY object), 3)
        ),
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM marked
    WHERE resource = 'pods' AND subresource IN ('exec', 'attach', 'portforward')
    GROUP BY actor, impersonated_user, subresource
    UNION ALL
    SELECT
        'anonymous', 3,
        format('anonymous {} {}: {} of {} allowed', verb, coalesce(resource, path),
            count(*) FILTER (WHERE code < 400), count(*)),
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM marked
    WHERE username = 'system:anonymous' OR list_contains(user_groups, 'system:unauthenticated')
    GROUP BY actor, impersonated_user, verb, coalesce(resource, path)
    UNION ALL
    SELECT
        'impersonation', 4,
        format('acts as {}: {} requests, {} denied', impersonated_user, count(*),
            count(*) FILTER (WHERE code IN (401, 403))),
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM marked
    WHERE impersonated_user IS NOT NULL
    GROUP BY actor, impersonated_user
    UNION ALL
    SELECT
        'secret-read', 5,
        CASE
            WHEN verb = 'get' THEN format('get secrets: {} distinct ({})', count(DISTINCT object),
                first_few(list(DISTINCT object ORDER BY object), 3))
            ELSE format(
                '{} secrets in {}', verb, first_few(list(DISTINCT ns ORDER BY ns), 3)
            )
        END,
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM marked
    CROSS JOIN LATERAL (SELECT coalesce(namespace, 'every namespace') AS ns)
    WHERE resource = 'secrets' AND subresource IS NULL AND verb IN ('get', 'list', 'watch')
    GROUP BY actor, impersonated_user, verb
    UNION ALL
    SELECT
        'denial-burst', 6,
        format('{} denials from {} to {}', count(*), strftime(min(bucket), '%Y-%m-%d %H:%M:%S'),
            strftime(min(bucket) + $burst_window, '%H:%M:%S')),
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM (SELECT *, time_bucket($burst_window, received_at) AS bucket FROM marked)
    WHERE code IN (401, 403)
    GROUP BY actor, impersonated_user, bucket
    HAVING count(*) >= $burst
    UNION ALL
    SELECT
        'denied', 7, format('{} denied: {}', m.code, any_value(o.operations)),
        m.actor, m.impersonated_user,
        count(*), count(DISTINCT object), count(*),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM marked AS m
    JOIN denied_operations AS o
        ON m.actor = o.actor AND m.code = o.code
        AND m.impersonated_user IS NOT DISTINCT FROM o.impersonated_user
    WHERE m.code IN (401, 403)
    GROUP BY m.actor, m.impersonated_user, m.code
)
SELECT
    CAST(finding AS VARCHAR) AS finding,
    CAST(why AS VARCHAR) AS why,
    CAST(actor AS VARCHAR) AS username,
    CAST(impersonated_user AS VARCHAR) AS impersonated_user,
    CAST(requests AS BIGINT) AS requests,
    CAST(objects AS BIGINT) AS objects,
    CAST(denied AS BIGINT) AS denied,
    CAST(first_seen AS TIMESTAMPTZ) AS first_seen,
    CAST(last_seen AS TIMESTAMPTZ) AS last_seen,
    CAST(audit_id AS VARCHAR) AS first_audit_id
FROM findings
ORDER BY rank, first_seen, username, why
LIMIT $limit
