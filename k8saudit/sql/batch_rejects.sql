-- name: batch_rejects
-- The rejected rows of batch $batch in line order: line, reason and text (NULL when the reader
-- did not keep it).
-- param: batch INTEGER  -- the batch number
SELECT source_line, _status, _reject_text
FROM staged
WHERE _batch = $batch AND _status NOT IN ('ok', 'blank')
ORDER BY source_line, _item
