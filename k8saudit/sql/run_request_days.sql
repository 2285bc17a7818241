-- name: run_request_days
-- The days the run's materialized requests fall on.
SELECT DISTINCT day FROM run_requests
