-- name: sensitive
-- What a security responder looks at first, one finding per row, each saying why it is listed:
-- changes to the cluster-admin role or its binding and every other RBAC change (roles,
-- bindings, bind/escalate), exec/attach/port-forward into pods, anonymous requests,
-- impersonation (who acted as whom), Secret reads and lists (who, which, how many distinct),
-- 401/403 denials per user and bursts of them (--burst denials or more to one user within
-- one --burst-window, windows aligned to the clock). Users are grouped as `identity` (node
-- names collapsed to system:node:*). Where bodies were kept (ingest --keep-bodies): bindings
-- that grant cluster-admin, or a role whose rules (as last written) allow '*' verbs or
-- resources, with the subjects granted; pods and the pod templates of deployments,
-- daemonsets, statefulsets, replicasets, jobs and cronjobs written privileged, with hostPID,
-- hostIPC or hostNetwork, hostPath volumes or added SYS_ADMIN, NET_ADMIN or ALL capabilities.
-- shape: listing
-- filters: common
-- param: burst INTEGER = 10  -- a denial burst: this many 401/403 answers to one user in a window
-- param: burst_window DURATION = '1m'  -- the windows denial bursts are counted in: 10s, 1m, 5m...
-- param: limit INTEGER = NULL  -- at most this many findings, the first ones (0: all)
WITH marked AS MATERIALIZED (
    -- one scan: the requests some finding below may list (each applies its own condition
    -- to these; a new kind of finding adds the requests it reads here)
    SELECT
        audit_id, received_at, verb, api_group, resource, subresource, namespace, name, path,
        code, username, user_groups, impersonated_user, request_object, response_object,
        coalesce(identity, username, '-') AS actor,
        coalesce(nullif(concat_ws('/', namespace, name), ''), '*') AS object
    FROM filtered
    WHERE code IN (401, 403)
        OR impersonated_user IS NOT NULL
        OR username = 'system:anonymous' OR list_contains(user_groups, 'system:unauthenticated')
        OR resource IN ('pods', 'secrets')
        OR api_group = 'rbac.authorization.k8s.io'
        OR (verb IN ('create', 'update', 'patch') AND subresource IS NULL
            AND (request_object IS NOT NULL OR response_object IS NOT NULL))
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
bodies AS (
    -- the writes whose bodies were kept, with the object after each (or the one sent)
    SELECT
        *,
        concat_ws('/', namespace, coalesce(
            name, json_extract_string(body, '$.metadata.name'),
            json_extract_string(body, '$.metadata.generateName') || '*'
        )) AS written
    FROM (
        SELECT *, written_object(request_object, response_object) AS body
        FROM marked
        WHERE verb IN ('create', 'update', 'patch') AND subresource IS NULL
          AND (request_object IS NOT NULL OR response_object IS NOT NULL)
    )
),
wildcard_roles AS (
    -- the roles whose rules, as last written with a body, allow '*' verbs or resources (read
    -- from every request: the role may have been written before the window)
    SELECT resource, namespace, role, arg_max(wildcards, received_at) AS wildcards
    FROM (
        SELECT
            resource, namespace, received_at,
            coalesce(name, json_extract_string(body, '$.metadata.name')) AS role,
            concat_ws(' and ',
                CASE WHEN list_contains(flatten(
                    CAST(json_extract_string(body, '$.rules[*].verbs') AS VARCHAR[][])), '*')
                    THEN '''*'' verbs' END,
                CASE WHEN list_contains(flatten(
                    CAST(json_extract_string(body, '$.rules[*].resources') AS VARCHAR[][])), '*')
                    THEN '''*'' resources' END
            ) AS wildcards
        FROM (
            SELECT *, written_object(request_object, response_object) AS body
            FROM requests
            WHERE api_group = 'rbac.authorization.k8s.io' AND resource IN ('roles', 'clusterroles')
              AND verb IN ('create', 'update', 'patch') AND subresource IS NULL AND code < 300
              AND (request_object IS NOT NULL OR response_object IS NOT NULL)
        )
        WHERE json_extract(body, '$.rules') IS NOT NULL
    )
    GROUP BY ALL
    HAVING arg_max(wildcards, received_at) <> ''
),
grants AS (
    SELECT
        b.*,
        json_extract_string(b.body, '$.roleRef.kind') AS ref_kind,
        json_extract_string(b.body, '$.roleRef.name') AS ref_name,
        w.wildcards,
        first_few([
            format('{} {}', json_extract_string(x, '$.kind'),
                concat_ws('/', json_extract_string(x, '$.namespace'),
                    json_extract_string(x, '$.name')))
            FOR x IN json_extract(b.body, '$.subjects[*]')
        ], 5) AS subjects
    FROM bodies AS b
    LEFT JOIN wildcard_roles AS w
        ON w.role = json_extract_string(b.body, '$.roleRef.name')
        AND (
            (w.resource = 'clusterroles'
                AND json_extract_string(b.body, '$.roleRef.kind') = 'ClusterRole')
            OR (w.resource = 'roles' AND w.namespace = b.namespace
                AND json_extract_string(b.body, '$.roleRef.kind') = 'Role')
        )
    WHERE b.api_group = 'rbac.authorization.k8s.io'
      AND b.resource IN ('rolebindings', 'clusterrolebindings')
),
pod_specs AS (
    -- a pod's spec, or the one a workload's pod template gives its pods, and its containers
    SELECT
        *,
        [
            {
                'name': json_extract_string(c, '$.name'),
                'privileged': json_extract_string(c, '$.securityContext.privileged') = 'true',
                'added': list_filter(
                    json_extract_string(c, '$.securityContext.capabilities.add[*]'),
                    lambda k: upper(k) IN (
                        'SYS_ADMIN', 'NET_ADMIN', 'ALL', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'
                    )
                )
            }
            FOR c IN list_concat(
                json_extract(spec, '$.initContainers[*]'), json_extract(spec, '$.containers[*]'),
                json_extract(spec, '$.ephemeralContainers[*]')
            )
        ] AS containers
    FROM (
        SELECT
            *,
            json_extract(body, CASE resource
                WHEN 'pods' THEN '$.spec'
                WHEN 'cronjobs' THEN '$.spec.jobTemplate.spec.template.spec'
                ELSE '$.spec.template.spec'
            END) AS spec
        FROM bodies
        WHERE resource IN (
            'pods', 'deployments', 'daemonsets', 'statefulsets', 'replicasets', 'jobs', 'cronjobs'
        )
    )
    WHERE spec IS NOT NULL
),
pod_risks AS (
    SELECT
        *,
        array_to_string(list_concat(
            [format('privileged container {}', c.name) FOR c IN containers IF c.privileged],
            [h FOR h IN ['hostPID', 'hostIPC', 'hostNetwork']
                IF json_extract_string(spec, '$.' || h) = 'true'],
            [
                format('hostPath volume {} ({})', json_extract_string(v, '$.name'),
                    json_extract_string(v, '$.hostPath.path'))
                FOR v IN json_extract(spec, '$.volumes[*]')
                IF json_extract(v, '$.hostPath') IS NOT NULL
            ],
            [
                format('container {} adds {}', c.name, array_to_string(c.added, ', '))
                FOR c IN containers IF len(c.added) > 0
            ]
        ), '; ') AS risks
    FROM pod_specs
),
findings AS (
    SELECT
        CASE WHEN name = 'cluster-admin' THEN 'cluster-admin' ELSE 'rbac-change' END AS finding,
        CASE WHEN name = 'cluster-admin' THEN 0 ELSE 2 END AS rank,
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
        'rbac-grant', 1,
        format('{} {} {} grants {} {}{} to {}', verb, resource, written, ref_kind, ref_name,
            CASE WHEN ref_name = 'cluster-admin' AND ref_kind = 'ClusterRole' THEN ''
                ELSE format(' (its rules allow {})', wildcards) END,
            coalesce(nullif(subjects, ''), 'no subjects')),
        actor, impersonated_user,
        count(*), count(DISTINCT written), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM grants
    WHERE (ref_name = 'cluster-admin' AND ref_kind = 'ClusterRole') OR wildcards IS NOT NULL
    GROUP BY actor, impersonated_user, verb, resource, written, ref_kind, ref_name, wildcards,
        subjects
    UNION ALL
    SELECT
        'privileged-pod', 3,
        format('{} {} {}: {}', verb, resource,
            first_few(list(DISTINCT written ORDER BY written), 3), risks),
        actor, impersonated_user,
        count(*), count(DISTINCT written), count(*) FILTER (WHERE code IN (401, 403)),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM pod_risks
    WHERE risks <> ''
    GROUP BY actor, impersonated_user, verb, resource, risks
    UNION ALL
    SELECT
        'exec', 4,
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
        'anonymous', 5,
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
        'impersonation', 6,
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
        'secret-read', 7,
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
        'denial-burst', 8,
        format('{} denials from {} to {}', count(*), strftime(min(bucket), '%Y-%m-%d %H:%M:%S'),
            strftime(min(bucket) + $burst_window, '%H:%M:%S')),
        actor, impersonated_user,
        count(*), count(DISTINCT object), count(*),
        min(received_at), max(received_at), arg_min(audit_id, received_at)
    FROM (SELECT *, utc_bucket($burst_window, received_at) AS bucket FROM marked)
    WHERE code IN (401, 403)
    GROUP BY actor, impersonated_user, bucket
    HAVING count(*) >= $burst
    UNION ALL
    SELECT
        'denied', 9, format('{} denied: {}', m.code, any_value(o.operations)),
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
