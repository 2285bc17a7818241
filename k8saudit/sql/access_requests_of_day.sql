-- name: access_requests_of_day
-- The requests of `access_requests` (access_request_rows.sql) received on day $day, with the
-- `day` write_day.sql drops.
-- param: day DATE  -- the day written
SELECT * EXCLUDE (_batch), received_at::DATE AS day
FROM access_requests
WHERE received_at::DATE IS NOT DISTINCT FROM $day
