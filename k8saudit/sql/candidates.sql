-- name: candidates
-- The audit events of the requests key_summary.sql lists, staged or keyed in place: the rows
-- pick.sql chooses from (`_direct`: the batch of the file read in place, NULL when staged).
CREATE TEMP VIEW candidates AS
SELECT
    request_key, stage, stage_at, received_at, source_file, source_line, _item,
    NULL::INTEGER AS _direct
FROM staged
WHERE _status = 'ok' AND NOT starts_with(log_format, 'httplog')
    AND request_key IN (FROM key_summary SELECT request_key)
UNION ALL
SELECT
    k.audit_id, k.stage::VARCHAR, k.stage_at, k.received_at, f.display, k.source_line, 0,
    k._batch
FROM direct_keys AS k
JOIN direct_files AS f USING (_batch)
WHERE k.audit_id IN (FROM key_summary SELECT request_key)
