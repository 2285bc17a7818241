-- name: access_raw
-- The raw event rows of `scanned` (access_scanned.sql) as derive.sql reads them: the
-- schema.RAW_EVENT_SCHEMA columns and `request_key`, for access_requests.sql. A line's key is its
-- audit ID or, without one, the key key_by_content.sql gives a line like no other of its file
-- ('~', the hash of the same columns, '.1': the caller checks that no two keys of the run are
-- alike, else the file is staged after all). `source_line` is NULL: the line is the rowid of the
-- table written, plus one. The statement fails (error()) at the first line that a reading of the
-- whole file in one pass cannot take: one that is not fit (access_scanned.sql), one timed by a
-- CRI wrapper where the file's first line is not ($cri_file) or the other way round (the
-- wrapper-timed lines are then all or none), or a klog clock in December or January where the
-- file's first is in another month (its year may change within the file: $first_month). The
-- caller then reads the file as before (Stager.access_file).
-- param: cri_file BOOLEAN  -- the first line of the file is in a CRI wrapper
-- param: first_month INTEGER  -- the month of the file's first klog clock
SELECT
    audit_id,
    stage,
    stage_at,
    received_at,
    "level",
    verb,
    http_method,
    request_uri,
    api_group,
    api_version,
    resource,
    subresource,
    namespace,
    name,
    username,
    user_groups,
    impersonated_user,
    user_agent,
    source_ip,
    pod_name,
    node_name,
    code,
    grpc_code,
    reason,
    decision,
    latency_ms,
    apf_priority_level,
    apf_flow_schema,
    apf_initial_seats,
    apf_final_seats,
    apf_additional_latency_ms,
    apf_execution_ms,
    apiserver,
    log_format,
    source_file,
    NULL::BIGINT AS source_line,
    NULL::VARCHAR AS request_object,
    NULL::VARCHAR AS response_object,
    coalesce(audit_id, '~' || hash(
        "stage", "stage_at", "received_at", "level", "verb", "http_method",
        "request_uri", "api_group", "api_version", "resource", "subresource",
        "namespace", "name", "username", "user_groups", "impersonated_user",
        "user_agent", "source_ip", "pod_name", "node_name", "code", "grpc_code",
        "reason", "decision", "latency_ms", "apf_priority_level", "apf_flow_schema",
        "apf_initial_seats", "apf_final_seats", "apf_additional_latency_ms",
        "apf_execution_ms", "apiserver", "log_format"
    )::VARCHAR || '.1') AS request_key
FROM (
    SELECT
        *,
        NULL::VARCHAR AS "level",
        NULL::VARCHAR AS api_group,
        NULL::VARCHAR AS api_version,
        NULL::VARCHAR AS resource,
        NULL::VARCHAR AS subresource,
        NULL::VARCHAR AS namespace,
        NULL::VARCHAR AS name,
        NULL::VARCHAR AS username,
        NULL::VARCHAR[] AS user_groups,
        NULL::VARCHAR AS impersonated_user,
        NULL::VARCHAR AS pod_name,
        NULL::VARCHAR AS node_name,
        NULL::INTEGER AS grpc_code,
        NULL::VARCHAR AS reason,
        NULL::VARCHAR AS decision
    FROM scanned
    WHERE CASE
        WHEN NOT _fit THEN error('not a canonical access line')
        WHEN _cri <> $cri_file THEN error('timed by a wrapper unlike the first line')
        WHEN _month IN (1, 12) AND _month IS DISTINCT FROM $first_month
            THEN error('the klog year may change within the file')
        ELSE true
    END
)
