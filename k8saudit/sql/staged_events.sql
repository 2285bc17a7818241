-- name: staged_events
-- The valid raw rows the run staged, audit events and access-log lines.
SELECT * EXCLUDE (_status, _reject_text, _batch, _wrapper_timed)
FROM staged
WHERE _status = 'ok'
