-- name: open_from
-- When the earliest open request of a file read in place that is not ResponseStarted was
-- received: direct_events.sql reads the events before it only when complete.
SELECT min(received_at)
FROM picks
WHERE _direct IS NOT NULL AND _slot NOT IN ('', 'ResponseStarted')
