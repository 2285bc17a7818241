-- name: staged_audit_days
-- The days on which the staged audit events were received (NULL: no time stated).
SELECT DISTINCT received_at::DATE
FROM staged
WHERE _status = 'ok' AND NOT starts_with(log_format, 'httplog')
