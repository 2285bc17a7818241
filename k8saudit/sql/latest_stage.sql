-- latest_stage: the one audit event that speaks for each request of a simple run.
--
-- Reads the relation `events` (staged raw rows). A ResponseComplete (or Panic) event already
-- carries everything its RequestReceived / ResponseStarted events said, so the earlier stages of
-- a completed request are dropped with an anti-join instead of a sort of every row; only requests
-- still open at the end of the logs keep their latest earlier stage. The pipeline uses this only
-- when run_is_simple.sql says so (no access-log rows, no request completed twice); otherwise the
-- general merge_requests.sql runs.
WITH complete AS (
    SELECT * FROM events
    WHERE coalesce(stage, 'ResponseComplete') IN ('ResponseComplete', 'Panic')
),
open_requests AS (
    SELECT * FROM events AS e
    WHERE coalesce(stage, 'ResponseComplete') NOT IN ('ResponseComplete', 'Panic')
        AND NOT EXISTS (SELECT 1 FROM complete AS c WHERE c.request_key = e.request_key)
    QUALIFY row_number() OVER (
        PARTITION BY request_key
        ORDER BY (stage = 'ResponseStarted') DESC, source_file, source_line, _item
    ) = 1
)
SELECT * FROM complete
UNION ALL
SELECT * FROM open_requests
