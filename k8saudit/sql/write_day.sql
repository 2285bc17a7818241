-- name: write_day
-- Write the request rows of `day_rows` (REQUEST columns in order, plus `day`: the rows of one
-- day) to the Parquet file $out. zstd level 1 writes faster than levels 3 and 6 and is within
-- 1% of their size on request rows; row groups of 122,880 rows (DuckDB's default, said here)
-- keep a short --since/--until window pruned finely: 32,768 make files 25% larger, 245,760
-- 14% smaller but a 2-minute window reads twice as much, and 491,520 or more buffer so much
-- per writing thread that a 3 M-row write spilled, 4-14x slower (bench/RESULTS.md). Each
-- writing thread holds its row group whole until it is written, ~1 KB a row in memory: at
-- most 64 MB of it (~61 k access-log rows) took peak RSS of a 169 MB access-log ingest from
-- 733 to 582 MB for files 4% larger.
-- param: out VARCHAR  -- the file written
COPY (SELECT * EXCLUDE (day) FROM day_rows)
TO $out (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880,
    ROW_GROUP_SIZE_BYTES '64MB')
