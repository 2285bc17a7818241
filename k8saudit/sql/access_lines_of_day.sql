-- name: access_lines_of_day
-- The valid access-log lines the run staged that were received on day $day.
-- param: day DATE  -- the day written (NULL: requests without a time)
SELECT * EXCLUDE (_status, _reject_text, _batch, _wrapper_timed)
FROM staged
WHERE _status = 'ok' AND starts_with(log_format, 'httplog')
    AND received_at::DATE IS NOT DISTINCT FROM $day
