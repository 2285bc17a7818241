-- name: _data_end
-- The time of the last request, from which relative times (`--since 30m`) count back.
SELECT max(received_at) AS data_end FROM requests
