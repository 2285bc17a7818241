-- name: _info_span
-- For `k8saudit info`: how many requests the dataset holds, the first and the last.
SELECT
    count(*) AS requests,
    min(received_at) AS first_received,
    max(received_at) AS last_received
FROM requests
