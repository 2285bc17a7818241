-- name: batch_counts
-- The rows of batch $batch: all, valid events, blank lines, and valid events without audit ID.
-- param: batch INTEGER  -- the batch number
SELECT
    count(*),
    count(*) FILTER (WHERE _status = 'ok'),
    count(*) FILTER (WHERE _status = 'blank'),
    count(*) FILTER (WHERE _status = 'ok' AND audit_id IS NULL)
FROM staged
WHERE _batch = $batch
