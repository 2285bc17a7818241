-- name: access_observed_spans
-- observed_spans.sql for the access logs read whole in one pass (`access_requests`:
-- access_request_rows.sql) of the batches after $mark: each line observes its own time (its
-- completion), per apiserver, the first and the last; a suspicious time observes nothing.
-- param: mark INTEGER  -- the last batch before the file's
-- param: file_time TIMESTAMPTZ  -- when the file was last written
SELECT apiserver, min(completed_at), max(completed_at)
FROM access_requests
WHERE _batch > $mark AND completed_at IS NOT NULL
    AND is_plausible_time(completed_at, $file_time)
GROUP BY apiserver
ORDER BY apiserver NULLS FIRST
