-- name: stage_batch
-- Insert the rows of the relation `batch_rows` (RAW_EVENT columns, `_item`, `_status`,
-- `_reject_text`) into `staged` as batch $batch, keyed by their audit ID.
-- param: batch INTEGER  -- the batch number
INSERT INTO staged BY NAME
SELECT *, audit_id AS request_key, $batch AS _batch
FROM batch_rows
