-- name: staged_access_days
-- The days on which the staged access-log lines were received (NULL: no time stated).
SELECT DISTINCT received_at::DATE
FROM staged
WHERE _status = 'ok' AND starts_with(log_format, 'httplog')
