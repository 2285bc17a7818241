-- name: requests_view_exact
-- The `requests` view (requests_view.sql) over parts whose columns are exactly those of the
-- current schema, in its order (k8saudit.connection compares them), the usual case: the parts
-- as they are. Every query binds the view again, and choosing the columns by name
-- (requests_view_complete.sql, for parts with columns of a newer schema) costs each bind more.
CREATE VIEW requests AS
SELECT *
FROM _request_parts
