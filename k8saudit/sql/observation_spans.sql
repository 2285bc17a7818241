-- name: observation_spans
-- The `observation` view (observation.sql) of a dataset whose manifest has observed spans, the
-- usual case (k8saudit.connection): the windows of the `_observed` table alone. It is what
-- observation.sql gives when that table has rows, without the fallback over `requests` that
-- every query reading the window would otherwise plan (~5 ms of each).
CREATE VIEW observation AS
SELECT apiserver, min(first) AS first, max(last) AS last
FROM _observed
GROUP BY apiserver
