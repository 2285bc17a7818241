-- name: with_day
-- The request rows of `derived` (derive.sql: REQUEST columns, in order) and the day each
-- belongs to, that of its received time.
SELECT *, received_at::DATE AS day
FROM derived
