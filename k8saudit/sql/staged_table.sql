-- name: staged_table
-- The run's staging table: raw event rows (the registered empty table `_raw_schema` of
-- schema.RAW_EVENT_SCHEMA) plus `_item` (rank among the items of a source line), `_status`
-- (ok, blank, or a reject reason), `_reject_text`, `request_key` and `_batch`.
CREATE TABLE staged AS
SELECT
    *,
    NULL::INTEGER AS _item,
    NULL::VARCHAR AS _status,
    NULL::VARCHAR AS _reject_text,
    NULL::VARCHAR AS request_key,
    NULL::INTEGER AS _batch
FROM _raw_schema
