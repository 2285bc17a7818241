-- name: parts_audit_end
-- When the last request an audit log told of was received, in the Parquet parts $files (the
-- year of klog lines ingested later defaults to it).
-- param: files VARCHAR[]  -- the dataset's live parts
SELECT max(received_at)
FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
WHERE has_audit
