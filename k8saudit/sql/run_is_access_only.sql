-- name: run_is_access_only
-- Is every event of this run an access-log line with a key of its own? Then each line is its
-- request (merge_requests.sql would give each key its one row unchanged) and the run skips the
-- merge. No when the run has any audit event, or a key is missing or shared by two lines.
SELECT
    NOT EXISTS (SELECT 1 FROM run_keys)
    AND count(*) > 0
    AND count(request_key) = count(*)
    AND count(DISTINCT request_key) = count(*)
FROM staged
WHERE _status = 'ok' AND starts_with(log_format, 'httplog')
