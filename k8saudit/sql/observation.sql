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
HAVING count(*) > 0
