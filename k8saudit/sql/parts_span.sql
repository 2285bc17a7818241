-- name: parts_span
-- The first and last request received in the Parquet parts $files.
-- param: files VARCHAR[]  -- the dataset's live parts
SELECT min(received_at), max(received_at)
FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
