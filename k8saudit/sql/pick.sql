-- name: pick
-- The one event that speaks for each request that has not exactly one complete event.
--
-- Reads the view `candidates` (candidates.sql): the audit events (request_key, stage, stage_at, received_at,
-- source_file, source_line, _item, _direct) of the requests key_summary.sql lists. The rule is
-- merge_requests.sql's: the latest stage wins (a request still open keeps its ResponseStarted
-- over its RequestReceived), then the latest completion (copies of a complete event, e.g.
-- overlapping exports), then the first in file order. `_slot` is how a file read in place finds
-- the row again ('' for a complete event, else its stage); `_twins` counts the candidates of the
-- same request and slot in the same such file (_direct): there, rows are told apart by those
-- alone.
CREATE TEMP TABLE picks AS
WITH slotted AS (
    SELECT
        *,
        CASE WHEN is_complete(stage) THEN '' ELSE stage END AS _slot
    FROM candidates
)
SELECT *
FROM (
    SELECT *, count(*) OVER (PARTITION BY request_key, _direct, _slot) AS _twins
    FROM slotted
)
QUALIFY row_number() OVER (
    PARTITION BY request_key
    ORDER BY
        stage_rank(stage) DESC,
        CASE WHEN stage IN ('ResponseComplete', 'Panic') THEN stage_at END DESC NULLS LAST,
        source_file,
        source_line,
        _item
) = 1
