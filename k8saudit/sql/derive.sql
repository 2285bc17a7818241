-- name: derive
-- Raw event rows (relation `raw`: schema.RAW_EVENT_SCHEMA + request_key) -> request rows.
--
-- Everything a source does not state but the request implies is computed here, once, at ingest:
-- path parts parsed from the URI the way kube-apiserver's RequestInfoFactory does (for sources
-- without objectRef), the Kubernetes verb from the HTTP method, selectors and paging parameters,
-- scope, long-running / mutating flags, and the normalized `client`. One row per event still:
-- merge_requests.sql collapses the stages of a request afterwards.
WITH uri AS (
    SELECT
        *,
        CASE WHEN strpos(request_uri, '?') > 0
            THEN left(request_uri, strpos(request_uri, '?') - 1)
            ELSE request_uri END AS _path,
        CASE WHEN strpos(request_uri, '?') > 0
            THEN substr(request_uri, strpos(request_uri, '?') + 1) END AS _query
    FROM raw
),
segments AS (
    SELECT
        *,
        -- only where the source did not say what the path addresses, or it may say /watch/:
        -- the segments of /api/VERSION/... or /apis/GROUP/VERSION/... (none empty, a closing
        -- slash dropped), and where the version is. Cut with string functions: the same
        -- reading as a regular expression with groups took a third of deriving an access
        -- line's row (tests/test_derive_paths.py holds it to that pattern).
        CASE WHEN (resource IS NULL OR contains(_path, '/watch'))
            AND (starts_with(_path, '/api/') OR starts_with(_path, '/apis/'))
            AND NOT contains(_path, '//')
            THEN string_split(CASE WHEN ends_with(_path, '/') THEN _path[:-2] ELSE _path END, '/')
        END AS _s,
        CASE WHEN starts_with(_path, '/api/') THEN 3 ELSE 4 END AS _v
    FROM uri
),
split AS (
    SELECT
        *,
        CASE WHEN _v = 4 AND len(_s) >= 4 THEN _s[3] END AS _grp,
        CASE WHEN len(_s) >= _v THEN _s[_v] END AS _ver,
        CASE WHEN resource IS NULL OR contains(_path, '/watch')
            THEN coalesce(len(_s) >= _v AND _s[_v + 1] = 'watch', false) END AS _watch_path
    FROM segments
),
rest AS (
    SELECT
        *,
        CASE WHEN resource IS NULL AND len(_s) >= _v
            THEN nullif(_s[_v + 1 + _watch_path::INTEGER:], []) END AS _p0
    FROM split
),
parts AS (
    SELECT
        *,
        -- /namespaces/NS/... addresses resources inside NS, except the namespace's own
        -- subresources (status, finalize), as in k8s.io/apiserver RequestInfoFactory.
        CASE
            WHEN _p0[1] = 'namespaces' AND len(_p0) >= 3
                AND _p0[3] NOT IN ('status', 'finalize') THEN _p0[3:]
            ELSE _p0
        END AS _p,
        CASE WHEN _p0[1] = 'namespaces' AND len(_p0) >= 2 THEN _p0[2] END AS _ns
    FROM rest
),
fields AS (
    SELECT
        *,
        coalesce(resource, _p[1]) AS _resource,
        coalesce(namespace, CASE WHEN resource IS NULL THEN _ns END) AS _namespace,
        coalesce(name, CASE WHEN resource IS NULL THEN _p[2] END) AS _name,
        coalesce(subresource, CASE WHEN resource IS NULL THEN _p[3] END) AS _subresource,
        -- NULL where neither says watch; each regex runs only where its text occurs
        CASE WHEN contains(_query, 'watch=')
            THEN lower(regexp_extract(_query, '(?:^|&)watch=([^&]*)', 1)) IN ('true', '1') END
            OR _watch_path AS _watch_param
    FROM parts
),
verbs AS (
    SELECT
        *,
        coalesce(verb, CASE
            WHEN http_method IS NULL THEN NULL
            WHEN _resource IS NULL THEN lower(http_method)
            WHEN upper(http_method) IN ('GET', 'HEAD') AND _watch_param THEN 'watch'
            WHEN upper(http_method) IN ('GET', 'HEAD') AND _name IS NULL THEN 'list'
            WHEN upper(http_method) IN ('GET', 'HEAD') THEN 'get'
            WHEN upper(http_method) = 'POST' THEN 'create'
            WHEN upper(http_method) = 'PUT' THEN 'update'
            WHEN upper(http_method) = 'PATCH' THEN 'patch'
            WHEN upper(http_method) = 'DELETE' AND _name IS NULL THEN 'deletecollection'
            WHEN upper(http_method) = 'DELETE' THEN 'delete'
            ELSE lower(http_method)
        END) AS _verb,
        CASE WHEN starts_with(username, 'system:node:')
            THEN regexp_replace(username, '^system:node:.+$', 'system:node:*') ELSE username END
            AS _identity,
        regexp_extract(user_agent, '^([^/\s]+)', 1) AS _product,
        CASE WHEN contains(user_agent, 'kubernetes/')
            THEN nullif(regexp_extract(user_agent, 'kubernetes/[^/\s]+/(\S+)$', 1), '') END
            AS _ua_suffix,
        nullif(regexp_extract(username, '^system:serviceaccount:([^:]+:[^:]+)$', 1), '') AS _sa
    FROM fields
)
SELECT
    audit_id,
    received_at,
    CASE WHEN stage IN ('ResponseComplete', 'Panic') THEN stage_at END AS completed_at,
    coalesce(
        latency_ms,
        CASE WHEN stage IN ('ResponseComplete', 'Panic')
            THEN (epoch_us(stage_at) - epoch_us(received_at)) / 1000.0 END
    ) AS latency_ms,
    stage,
    "level",
    _verb AS verb,
    _verb IN ('watch', 'proxy')
        OR coalesce(_subresource IN ('attach', 'exec', 'proxy', 'log', 'portforward'), false)
        AS is_long_running,
    coalesce(_verb IN (
        'create', 'update', 'patch', 'delete', 'deletecollection', 'post', 'put'
    ), false) AS is_mutating,
    request_uri,
    _path AS path,
    coalesce(api_group, CASE WHEN resource IS NULL THEN _grp END) AS api_group,
    coalesce(api_version, CASE WHEN resource IS NULL THEN _ver END) AS api_version,
    _resource AS resource,
    _subresource AS subresource,
    _namespace AS namespace,
    _name AS name,
    CASE
        WHEN _resource IS NULL THEN NULL
        WHEN _name IS NOT NULL THEN 'object'
        WHEN _namespace IS NOT NULL THEN 'namespace'
        ELSE 'cluster'
    END AS scope,
    CASE WHEN contains(_query, 'labelSelector=')
        THEN url_decode(nullif(regexp_extract(_query, '(?:^|&)labelSelector=([^&]*)', 1), '')) END
        AS label_selector,
    CASE WHEN contains(_query, 'fieldSelector=')
        THEN url_decode(nullif(regexp_extract(_query, '(?:^|&)fieldSelector=([^&]*)', 1), '')) END
        AS field_selector,
    CASE WHEN contains(_query, 'resourceVersion=')
        THEN url_decode(nullif(regexp_extract(_query, '(?:^|&)resourceVersion=([^&]*)', 1), '')) END
        AS resource_version,
    CASE WHEN contains(_query, 'limit=')
        THEN try_cast(nullif(regexp_extract(_query, '(?:^|&)limit=([^&]*)', 1), '') AS BIGINT) END
        AS limit_param,
    _verb = 'watch' OR coalesce(_watch_param, false) AS is_watch,
    username,
    user_groups,
    impersonated_user,
    user_agent,
    CASE
        WHEN coalesce(_product, '') = '' THEN NULL
        WHEN _ua_suffix IS NOT NULL
            THEN _product || '/' || regexp_replace(_ua_suffix, '^system:serviceaccount:[^:]+:', '')
        WHEN lower(_product) IN (
            'rest-client', 'go-http-client', 'python-requests', 'okhttp', 'curl', 'python-urllib',
            'java', 'apache-httpclient', 'axios', 'node-fetch', 'wget', 'openapi-generator',
            'python-httpx', 'aiohttp', 'faraday', 'ruby', 'swagger-codegen'
        ) THEN _product || coalesce(' (' || coalesce(_sa, _identity) || ')', '')
        ELSE _product
    END AS client,
    nullif(regexp_extract(user_agent, '^[^/\s]+/(\S+)', 1), '') AS client_version,
    source_ip,
    pod_name,
    coalesce(node_name, nullif(regexp_extract(username, '^system:node:(.+)$', 1), ''))
        AS node_name,
    code,
    reason,
    decision,
    apf_priority_level,
    apf_flow_schema,
    apiserver,
    log_format,
    source_file,
    source_line,
    -- additions
    request_key,
    is_complete(stage) AS is_complete,
    _identity AS identity,
    http_method,
    grpc_code,
    apf_initial_seats,
    apf_final_seats,
    apf_additional_latency_ms,
    apf_execution_ms,
    NOT starts_with(log_format, 'httplog') AS has_audit,
    starts_with(log_format, 'httplog') AS has_access,
    request_object,
    response_object
FROM verbs
