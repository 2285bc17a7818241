-- name: stored_rows
-- The request rows of the Parquet parts $files that can belong to a request of day $day (its
-- events may straddle midnight), in REQUEST column order: `_request_schema` is the registered
-- empty table of schema.REQUEST_SCHEMA, so columns older parts lack read as NULL.
-- param: files VARCHAR[]  -- the run's new parts and the stored parts of those days
-- param: day DATE  -- the day reconciled (NULL: requests without a time)
SELECT *
FROM (
    SELECT * FROM _request_schema
    UNION ALL BY NAME
    SELECT * FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
)
WHERE (received_at IS NULL AND $day IS NULL)
    OR received_at::DATE BETWEEN $day - 1 AND $day + 1
