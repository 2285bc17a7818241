-- name: observed_spans
-- The instants the log lines of the batches after $mark observed, per apiserver: the first and
-- last. A line observes the moment it was written: an audit event its stageTimestamp, an
-- access-log line its own time (both `stage_at`); where a source states no such time (GKE
-- entries) the time it gives. A watch that began an hour before the log (only its
-- ResponseComplete is there) observes the end, not its start: the observation window
-- (DESIGN.md §6) is made of these, never of `received_at` alone. A suspicious time (macros.sql:
-- is_plausible_time) observes nothing.
-- param: mark INTEGER  -- the last batch before the file's
-- param: file_time TIMESTAMPTZ  -- when the file was last written
SELECT apiserver, min(observed), max(observed)
FROM (
    SELECT apiserver, coalesce(stage_at, received_at) AS observed
    FROM staged
    WHERE _batch > $mark AND _status = 'ok'
    UNION ALL
    SELECT f.apiserver, coalesce(k.stage_at, k.received_at)
    FROM direct_keys AS k
    JOIN direct_files AS f USING (_batch)
    WHERE k._batch > $mark
)
WHERE observed IS NOT NULL AND is_plausible_time(observed, $file_time)
GROUP BY apiserver
ORDER BY apiserver NULLS FIRST
