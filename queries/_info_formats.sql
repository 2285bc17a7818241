-- name: _info_formats
-- For `k8saudit info`: requests by the log format they were read from.
SELECT log_format, count(*) AS requests
FROM requests
GROUP BY ALL
ORDER BY 2 DESC
