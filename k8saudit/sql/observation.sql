-- name: observation
-- The observation window (DESIGN.md §6): the time the logs cover, from the instants their lines
-- observed, never from the span of `received_at` (a watch that began an hour before the log
-- would stretch it). `_observed` is the table of the manifest's observed spans (one
-- row per file and apiserver, k8saudit.connection); a dataset written before those were kept
-- falls back to the span of the requests' received and completed times. Per apiserver, a window
-- runs from the first instant any of its files observed to the last.
CREATE VIEW observation AS
SELECT apiserver, min(first) AS first, max(last) AS last
FROM _observed
GROUP BY apiserver
UNION ALL
SELECT NULL, min(received_at), max(coalesce(completed_at, received_at))
FROM requests
WHERE NOT EXISTS (SELECT 1 FROM _observed)
HAVING count(*) > 0;
-- The window of the whole dataset clipped by --since/--until (NULL: not given): a since before
-- the data does not dilute a rate, and the window is the same whatever the other filters. Every
-- rate divides by `window_s` (at least one second).
CREATE MACRO observation_window(since, until) AS TABLE
SELECT
    greatest(coalesce(since, first), first) AS window_start,
    least(coalesce(until, last), last) AS window_end,
    greatest(epoch(least(coalesce(until, last), last) - greatest(coalesce(since, first), first)), 1)
        AS window_s
FROM (SELECT min(first) AS first, max(last) AS last FROM observation);
