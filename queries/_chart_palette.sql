-- name: _chart_palette
-- For the charts' colours (k8saudit/charts.py): the groups (--by) with the most requests, most
-- first. The charts ask it without filters, so that a client has the same colour in every
-- chart of a dataset.
-- filters: common
-- param: limit INTEGER = 20  -- how many groups get a colour of their own
SELECT CAST(grp AS VARCHAR) AS grp, CAST(count(*) AS BIGINT) AS requests
FROM filtered
GROUP BY grp
ORDER BY requests DESC, grp
LIMIT $limit
