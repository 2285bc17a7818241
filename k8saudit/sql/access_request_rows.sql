-- name: access_request_rows
-- The request rows of the access logs read whole in one pass (relation `access_lines`: each
-- file's table of access_requests.sql, its lines numbered and its `_batch`), with the apiserver
-- of its file (access_files.sql) where a line names none.
SELECT r.* REPLACE (coalesce(r.apiserver, f.apiserver) AS apiserver)
FROM access_lines AS r
JOIN access_files AS f USING (_batch)
