-- name: written_parts
-- The request rows of Parquet parts this run wrote ($files), REQUEST columns in order.
-- param: files VARCHAR[]  -- the parts
SELECT * FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
