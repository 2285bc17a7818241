-- name: staged_memory
-- Bytes of memory the staged rows (in-memory tables) take.
SELECT coalesce(sum(memory_usage_bytes), 0)
FROM duckdb_memory()
WHERE tag = 'IN_MEMORY_TABLE'
