-- name: requests_view
-- The `requests` view every query reads: one row per API request, the columns of the current
-- schema (the variable `request_columns`) in its order. The empty table of that schema is the
-- base, so columns that parts written by an older k8saudit lack read as NULL (UNION ALL BY NAME):
-- adding a column never breaks a dataset. When every part has every column
-- (`requests_view_exact.sql`, the usual case; `requests_view_complete.sql` when they have more)
-- the view reads the parts alone: the union hides from DuckDB that `count(*)` needs no column,
-- and reads them all.
CREATE VIEW requests AS
SELECT COLUMNS(lambda c: list_contains(getvariable('request_columns'), c))
FROM (SELECT * FROM _request_schema UNION ALL BY NAME SELECT * FROM _request_parts)
