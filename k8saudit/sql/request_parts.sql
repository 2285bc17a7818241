-- name: request_parts
-- The Parquet parts the manifest lists, as one relation (`k8saudit.connection`): the list is the
-- connection's variable `request_parts`, set with a bound value, since a view cannot hold one.
CREATE VIEW _request_parts AS
SELECT *
FROM read_parquet(getvariable('request_parts'), hive_partitioning = false, union_by_name = true)
