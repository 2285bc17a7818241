-- name: staged_table
-- The run's staging table: raw event rows (the relation `raw_schema`, without rows:
-- schema.empty_relation of schema.RAW_EVENT_TYPES) plus `_item` (rank among the items of a
-- source line), `_status` (ok, blank, or a reject reason), `_reject_text`, `request_key`,
-- `_batch` and `_wrapper_timed` (access_scan.sql: the line is timed by its CRI wrapper).
CREATE TABLE staged AS
SELECT
    *,
    NULL::INTEGER AS _item,
    NULL::VARCHAR AS _status,
    NULL::VARCHAR AS _reject_text,
    NULL::VARCHAR AS request_key,
    NULL::INTEGER AS _batch,
    NULL::BOOLEAN AS _wrapper_timed
FROM raw_schema
