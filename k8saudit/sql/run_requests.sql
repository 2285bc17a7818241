-- name: run_requests
-- Materialize the merged requests of the run (`merged`: REQUEST columns plus `day`) once, so
-- that they are written day by day without merging again.
CREATE TEMP TABLE run_requests AS
SELECT * FROM merged
