-- name: access_request_days
-- The days on which the requests of `access_requests` (access_request_rows.sql) were received.
SELECT DISTINCT received_at::DATE
FROM access_requests
