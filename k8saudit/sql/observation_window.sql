-- name: observation_window
-- The window of the whole dataset clipped by --since/--until (NULL: not given): a since before
-- the data does not dilute a rate, and the window is the same whatever the other filters. Every
-- rate divides by `window_s` (at least one second). It reads the `observation` view
-- (observation.sql, or observation_spans.sql: k8saudit.connection creates one of them).
CREATE MACRO observation_window(since, until) AS TABLE
SELECT
    greatest(coalesce(since, first), first) AS window_start,
    least(coalesce(until, last), last) AS window_end,
    greatest(epoch(least(coalesce(until, last), last) - greatest(coalesce(since, first), first)), 1)
        AS window_s
FROM (SELECT min(first) AS first, max(last) AS last FROM observation);
