-- name: key_by_content
-- Key the events of batch $batch that have no audit ID (old access logs, trimmed exports) by
-- what they say (every raw column but audit_id, source_file, source_line and the bodies, which
-- some runs keep and others not), plus their rank
-- among identical ones in the file: the same line read again (a grown or recompressed file)
-- gets the same key and is not counted twice. tests/test_sql_files.py checks the column list
-- against schema.RAW_EVENT_SCHEMA.
-- param: batch INTEGER  -- the batch number
UPDATE staged SET request_key = k.key
FROM (
    SELECT
        r,
        '~' || h::VARCHAR || '.' || row_number() OVER (PARTITION BY h ORDER BY source_line, _item)
            AS key
    FROM (
        SELECT
            rowid AS r,
            source_line,
            _item,
            hash(
                "stage", "stage_at", "received_at", "level", "verb", "http_method",
                "request_uri", "api_group", "api_version", "resource", "subresource",
                "namespace", "name", "username", "user_groups", "impersonated_user",
                "user_agent", "source_ip", "pod_name", "node_name", "code", "grpc_code",
                "reason", "decision", "latency_ms", "apf_priority_level", "apf_flow_schema",
                "apf_initial_seats", "apf_final_seats", "apf_additional_latency_ms",
                "apf_execution_ms", "apiserver", "log_format"
            ) AS h
        FROM staged
        WHERE _batch = $batch AND audit_id IS NULL AND _status = 'ok'
    )
) AS k
WHERE staged.rowid = k.r
