-- name: run_keys
-- Every valid audit event of the run, staged or keyed in place: request key, stage, time.
CREATE TEMP VIEW run_keys AS
SELECT request_key, stage::VARCHAR AS stage, received_at
FROM staged
WHERE _status = 'ok' AND NOT starts_with(log_format, 'httplog')
UNION ALL
SELECT audit_id, stage::VARCHAR, received_at
FROM direct_keys
