-- name: _info_clients
-- For `k8saudit info`: the ten clients with the most requests.
SELECT coalesce(client, '(no user agent)') AS client, count(*) AS requests
FROM requests
GROUP BY ALL
ORDER BY 2 DESC, 1
LIMIT 10
