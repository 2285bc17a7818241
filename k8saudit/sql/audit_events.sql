-- name: audit_events
-- Kube-apiserver audit Events (any apiVersion) -> raw event rows.
--
-- Reads the relation `src`: the Event's own fields as columns (see formats/audit_json.py for the
-- column types) plus `_line` (source line), `_item` (rank among the Events of that line),
-- `_source_file` (the file as shown to users), `_apiserver`, `_wrapper` (the envelope the event
-- came in: '' for plain audit logs, 'eks-', 'aks-'...), `_unparsed` (the line is not a JSON
-- object) and `_text` (the line, when unparsed), and the bodies `requestObject` and
-- `responseObject`: redacted JSON text, or NULL (audit_source_bodies.sql).
-- `_status` says what the row is: ok, blank (skipped), or a reject reason.
SELECT
    nullif(auditID, '') AS audit_id,  -- an empty audit ID names no request: keyed by content
    stage,
    event_time(stageTimestamp) AS stage_at,
    event_time(coalesce(requestReceivedTimestamp, "timestamp")) AS received_at,
    "level",
    lower(verb) AS verb,
    NULL::VARCHAR AS http_method,
    requestURI AS request_uri,
    nullif(objectRef.apiGroup, '') AS api_group,
    objectRef.apiVersion AS api_version,
    objectRef.resource AS resource,
    nullif(objectRef.subresource, '') AS subresource,
    nullif(objectRef.namespace, '') AS namespace,
    nullif(objectRef.name, '') AS name,
    "user".username AS username,
    "user".groups AS user_groups,
    impersonatedUser.username AS impersonated_user,
    userAgent AS user_agent,
    sourceIPs[1] AS source_ip,
    "user".extra."authentication.kubernetes.io/pod-name"[1] AS pod_name,
    "user".extra."authentication.kubernetes.io/node-name"[1] AS node_name,
    responseStatus.code::INTEGER AS code,
    NULL::INTEGER AS grpc_code,
    nullif(responseStatus.reason, '') AS reason,
    annotations."authorization.k8s.io/decision" AS decision,
    NULL::DOUBLE AS latency_ms,
    NULL::VARCHAR AS apf_priority_level,
    NULL::VARCHAR AS apf_flow_schema,
    NULL::INTEGER AS apf_initial_seats,
    NULL::INTEGER AS apf_final_seats,
    NULL::DOUBLE AS apf_additional_latency_ms,
    NULL::DOUBLE AS apf_execution_ms,
    _apiserver AS apiserver,
    _wrapper || CASE
        WHEN apiVersion LIKE 'audit.k8s.io/%' THEN 'audit-' || split_part(apiVersion, '/', 2)
        WHEN requestReceivedTimestamp IS NOT NULL THEN 'audit-v1'
        ELSE 'audit-v1beta1'
    END AS log_format,
    _source_file AS source_file,
    _line AS source_line,
    requestObject AS request_object,
    responseObject AS response_object,
    _item,
    audit_status(_unparsed, _text, requestURI, auditID, verb, kind, apiVersion) AS _status,
    _text AS _reject_text
FROM src
