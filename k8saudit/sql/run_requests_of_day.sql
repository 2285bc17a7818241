-- name: run_requests_of_day
-- The run's materialized requests of day $day.
-- param: day DATE  -- the day (NULL: requests without a time)
SELECT * FROM run_requests WHERE day IS NOT DISTINCT FROM $day
