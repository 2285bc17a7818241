-- name: staged_access_lines
-- The valid access-log lines the run staged.
SELECT * EXCLUDE (_status, _reject_text, _batch, _wrapper_timed)
FROM staged
WHERE _status = 'ok' AND starts_with(log_format, 'httplog')
