-- name: access_requests_apart
-- Has every request of `access_requests` (access_request_rows.sql) a key of its own? Then each
-- line is its request, as run_is_access_only.sql says of staged lines.
SELECT count(request_key) = count(*) AND count(DISTINCT request_key) = count(*)
FROM access_requests
