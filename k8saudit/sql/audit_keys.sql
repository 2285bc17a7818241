-- name: audit_keys
-- What the keys pass keeps of each row of `src`: audit ID, stage, its times and the row's status
-- (the same rules as audit_events.sql, which shares them as macros).
SELECT
    nullif(auditID, '') AS audit_id,  -- an empty audit ID names no request: keyed by content
    stage,
    event_time(stageTimestamp) AS stage_at,
    event_time(coalesce(requestReceivedTimestamp, "timestamp")) AS received_at,
    audit_status(_unparsed, _text, requestURI, auditID, verb, kind, apiVersion) AS _status
FROM src
