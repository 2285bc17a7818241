-- name: _info_apiservers
-- For `k8saudit info`: requests by the API server that served them.
SELECT coalesce(apiserver, '(not stated)') AS apiserver, count(*) AS requests
FROM requests
GROUP BY ALL
ORDER BY 2 DESC, 1
