-- name: _filter_values
-- The values one common filter (--client, --verb, --resource, --namespace, --user, --code) can
-- match, with the requests of each, most first: what an empty answer names as the nearest
-- (k8saudit.explain). The column is picked by a bound name, never formatted into the SQL.
-- param: column VARCHAR IN (client, verb, resource, namespace, user, code)  -- the filter
SELECT value, count(*) AS requests
FROM (
    SELECT
        CASE $column
            WHEN 'client' THEN client
            WHEN 'verb' THEN verb
            WHEN 'resource' THEN resource
            WHEN 'namespace' THEN namespace
            WHEN 'user' THEN username
            WHEN 'code' THEN CAST(code AS VARCHAR)
        END AS value
    FROM requests
)
WHERE value IS NOT NULL
GROUP BY value
ORDER BY requests DESC, value
