-- name: merged_of_day
-- The merged requests (`merged`) of day $day.
-- param: day DATE  -- the day (NULL: requests without a time)
SELECT * FROM merged WHERE day IS NOT DISTINCT FROM $day
