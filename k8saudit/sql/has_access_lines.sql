-- name: has_access_lines
-- Did the run stage any access-log line?
SELECT EXISTS (SELECT 1 FROM staged WHERE _status = 'ok' AND starts_with(log_format, 'httplog'))
