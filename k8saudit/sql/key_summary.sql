-- name: key_summary
-- The requests of a run that do not have exactly one complete audit event.
--
-- Reads the view `run_keys` (request_key, stage): every valid event of the run. A request still
-- open when the logs end has completes = 0; one with completes > 1 has copies of one event (e.g.
-- overlapping cloud exports). pick.sql chooses an event for each. The rest, nearly every
-- request, has one complete event that says everything its earlier stages said: not listed.
CREATE TEMP TABLE key_summary AS
SELECT
    request_key,
    count(*) FILTER (WHERE is_complete(stage)) AS completes
FROM run_keys
GROUP BY request_key
HAVING completes <> 1
