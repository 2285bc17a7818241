-- name: access_suspicious_times
-- suspicious_times.sql for the access logs read whole in one pass (`access_requests`:
-- access_request_rows.sql) of the batches after $mark: how many lines have a received or
-- completion time that is not plausible, and the first line of one.
-- param: mark INTEGER  -- the last batch before the file's
-- param: file_time TIMESTAMPTZ  -- when the file was last written
SELECT count(*), min(source_line)
FROM access_requests
WHERE _batch > $mark AND NOT (
    is_plausible_time(received_at, $file_time) AND is_plausible_time(completed_at, $file_time)
)
