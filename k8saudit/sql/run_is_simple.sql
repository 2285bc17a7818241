-- run_is_simple: can each audit request of this run be its one complete event (or, while still
-- open, its latest event: open_pick.sql)? Otherwise the general merge_requests.sql runs over
-- every event of the run.
--
-- No when a request has two complete events (key_summary.sql: copies of one event, e.g.
-- overlapping cloud exports), or when an open request's chosen event has a twin of the same
-- stage in a file read in place (rows there are told apart by key and stage).
SELECT
    NOT EXISTS (SELECT 1 FROM key_summary WHERE completes > 1)
    AND NOT EXISTS (SELECT 1 FROM open_pick WHERE _direct IS NOT NULL AND _twins > 1) AS simple
