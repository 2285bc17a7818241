-- name: stored_overlap
-- Does any request of the Parquet parts $new already sit in the stored parts $old?
-- param: new VARCHAR[]  -- the run's parts
-- param: old VARCHAR[]  -- the stored parts of the same and neighbouring days
SELECT EXISTS (
    SELECT 1
    FROM read_parquet($new, hive_partitioning = false) AS n
    SEMI JOIN read_parquet($old, union_by_name = true, hive_partitioning = false) AS o
        USING (request_key)
)
