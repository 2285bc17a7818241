-- name: merge_requests
-- Request-shaped rows (relation `rows`) -> exactly one row per request_key.
--
-- The stages of one request (RequestReceived, ResponseStarted, ResponseComplete, Panic), copies of
-- the same event, rows stored by earlier runs and the access-log line of the same audit-ID all
-- collapse here. The best audit row (latest stage) is joined with the best access-log row, and
-- each column takes the audit value when there is one, else the access-log value; the access log
-- alone knows the APF columns. A row already merged from both sources stands on both sides.
-- The APF columns take the access-log value first; tests/test_sql_files.py checks that every
-- column of schema.REQUEST_SCHEMA is merged here, in order.
WITH ranked AS (
    SELECT
        *,
        stage_rank(stage) AS _stage_rank
    FROM rows
),
-- ties (copies of one event, a stored row merged earlier) break on what the row knows, then on
-- where it came from, so that the same input always gives the same row. An audit row alone
-- ranks before one already merged with an access-log line: the merged row's stage may be the
-- access log's (complete) while its audit side was only a RequestReceived (shards, runs)
best_audit AS (
    SELECT * FROM ranked WHERE has_audit
    QUALIFY row_number() OVER (
        PARTITION BY request_key
        ORDER BY _stage_rank DESC, has_access, completed_at DESC NULLS LAST, source_file,
            source_line
    ) = 1
),
best_access AS (
    SELECT * FROM ranked WHERE has_access
    QUALIFY row_number() OVER (
        PARTITION BY request_key
        ORDER BY _stage_rank DESC, completed_at DESC NULLS LAST, source_file, source_line
    ) = 1
),
joined AS (
    SELECT
        request_key,
        coalesce(a.audit_id, x.audit_id) AS audit_id,
        coalesce(a.received_at, x.received_at) AS received_at,
        coalesce(a.completed_at, x.completed_at) AS completed_at,
        coalesce(a.latency_ms, x.latency_ms) AS latency_ms,
        coalesce(a."level", x."level") AS "level",
        coalesce(a.verb, x.verb) AS verb,
        coalesce(a.is_long_running, x.is_long_running) AS is_long_running,
        coalesce(a.is_mutating, x.is_mutating) AS is_mutating,
        coalesce(a.request_uri, x.request_uri) AS request_uri,
        coalesce(a.path, x.path) AS path,
        coalesce(a.api_group, x.api_group) AS api_group,
        coalesce(a.api_version, x.api_version) AS api_version,
        coalesce(a.resource, x.resource) AS resource,
        coalesce(a.subresource, x.subresource) AS subresource,
        coalesce(a.namespace, x.namespace) AS namespace,
        coalesce(a."name", x."name") AS "name",
        coalesce(a.scope, x.scope) AS scope,
        coalesce(a.label_selector, x.label_selector) AS label_selector,
        coalesce(a.field_selector, x.field_selector) AS field_selector,
        coalesce(a.resource_version, x.resource_version) AS resource_version,
        coalesce(a.limit_param, x.limit_param) AS limit_param,
        coalesce(a.is_watch, x.is_watch) AS is_watch,
        coalesce(a.username, x.username) AS username,
        coalesce(a.user_groups, x.user_groups) AS user_groups,
        coalesce(a.impersonated_user, x.impersonated_user) AS impersonated_user,
        coalesce(a.user_agent, x.user_agent) AS user_agent,
        coalesce(a.client, x.client) AS client,
        coalesce(a.client_version, x.client_version) AS client_version,
        coalesce(a.source_ip, x.source_ip) AS source_ip,
        coalesce(a.pod_name, x.pod_name) AS pod_name,
        coalesce(a.node_name, x.node_name) AS node_name,
        coalesce(a.code, x.code) AS code,
        coalesce(a.reason, x.reason) AS reason,
        coalesce(a.decision, x.decision) AS decision,
        coalesce(x.apf_priority_level, a.apf_priority_level) AS apf_priority_level,
        coalesce(x.apf_flow_schema, a.apf_flow_schema) AS apf_flow_schema,
        coalesce(a.apiserver, x.apiserver) AS apiserver,
        coalesce(a.log_format, x.log_format) AS log_format,
        coalesce(a.source_file, x.source_file) AS source_file,
        coalesce(a.source_line, x.source_line) AS source_line,
        coalesce(a.identity, x.identity) AS identity,
        coalesce(a.http_method, x.http_method) AS http_method,
        coalesce(a.grpc_code, x.grpc_code) AS grpc_code,
        coalesce(x.apf_initial_seats, a.apf_initial_seats) AS apf_initial_seats,
        coalesce(x.apf_final_seats, a.apf_final_seats) AS apf_final_seats,
        coalesce(x.apf_additional_latency_ms, a.apf_additional_latency_ms)
            AS apf_additional_latency_ms,
        coalesce(x.apf_execution_ms, a.apf_execution_ms) AS apf_execution_ms,
        coalesce(
            CASE WHEN a.is_complete THEN a.stage END,
            CASE WHEN x.is_complete THEN x.stage END,
            a.stage,
            x.stage
        ) AS stage,
        coalesce(a.is_complete, false) OR coalesce(x.is_complete, false) AS is_complete,
        a.request_key IS NOT NULL OR coalesce(x.has_audit, false) AS has_audit,
        x.request_key IS NOT NULL OR coalesce(a.has_access, false) AS has_access,
        -- the bodies of the audit row that speaks for the request (access logs have none)
        coalesce(a.request_object, x.request_object) AS request_object,
        coalesce(a.response_object, x.response_object) AS response_object
    FROM best_audit AS a
    FULL OUTER JOIN best_access AS x USING (request_key)
)
SELECT
    audit_id, received_at, completed_at, latency_ms, stage, "level", verb, is_long_running,
    is_mutating, request_uri, path, api_group, api_version, resource, subresource, namespace,
    "name", scope, label_selector, field_selector, resource_version, limit_param, is_watch,
    username, user_groups, impersonated_user, user_agent, client, client_version, source_ip,
    pod_name, node_name, code, reason, decision, apf_priority_level, apf_flow_schema, apiserver,
    log_format, source_file, source_line, request_key, is_complete, identity, http_method,
    grpc_code, apf_initial_seats, apf_final_seats, apf_additional_latency_ms, apf_execution_ms,
    has_audit, has_access, request_object, response_object,
    received_at::DATE AS day
FROM joined
