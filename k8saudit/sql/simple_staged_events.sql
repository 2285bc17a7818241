-- name: simple_staged_events
-- The staged audit events a simple run keeps for day $day: each complete event of a request
-- that has exactly one, and the events pick.sql chose among the staged ones. All stages of a
-- request share its received time, so filtering events by day filters requests by day.
-- param: day DATE  -- the day written (NULL: requests without a time)
SELECT s.* EXCLUDE (_status, _reject_text, _batch, _wrapper_timed)
FROM staged AS s
ANTI JOIN (SELECT request_key FROM key_summary WHERE completes > 1) USING (request_key)
WHERE s._status = 'ok' AND NOT starts_with(s.log_format, 'httplog')
    AND is_complete(s.stage)
    AND s.received_at::DATE IS NOT DISTINCT FROM $day
UNION ALL
SELECT s.* EXCLUDE (_status, _reject_text, _batch, _wrapper_timed)
FROM staged AS s
SEMI JOIN (SELECT * FROM picks WHERE _direct IS NULL) AS p
    ON s.request_key = p.request_key AND s.source_file = p.source_file
    AND s.source_line IS NOT DISTINCT FROM p.source_line AND s._item = p._item
WHERE s._status = 'ok' AND NOT starts_with(s.log_format, 'httplog')
    AND s.received_at::DATE IS NOT DISTINCT FROM $day
