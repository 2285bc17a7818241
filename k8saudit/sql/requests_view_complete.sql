-- name: requests_view_complete
-- The `requests` view (requests_view.sql) over parts that hold every column of the current
-- schema: the parts alone, their columns of the schema (the variable `request_columns`) in its
-- order. Without the union with the schema's empty table, DuckDB reads only the columns a
-- query uses (none for `count(*)`: the Parquet footers answer it).
CREATE VIEW requests AS
SELECT COLUMNS(lambda c: list_contains(getvariable('request_columns'), c))
FROM _request_parts
