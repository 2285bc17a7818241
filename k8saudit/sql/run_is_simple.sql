-- run_is_simple: can each request of this run be its one complete event (or, while still open,
-- its latest event: open_pick.sql)? Otherwise the general merge_requests.sql runs.
--
-- No when an event comes from an access log (those are joined column by column), when a
-- request has two complete events (key_summary.sql), or when an open request's chosen event has
-- a twin of the same stage in a file read in place (rows there are told apart by key and stage).
SELECT
    NOT EXISTS (
        SELECT 1 FROM staged WHERE _status = 'ok' AND starts_with(log_format, 'httplog')
    )
    AND NOT EXISTS (SELECT 1 FROM key_summary WHERE completes > 1)
    AND NOT EXISTS (SELECT 1 FROM open_pick WHERE _direct IS NOT NULL AND _twins > 1) AS simple
