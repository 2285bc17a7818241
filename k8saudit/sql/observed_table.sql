-- name: observed_table
-- The observed spans of every ingested file, from the manifest (k8saudit.connection): one row
-- per file and apiserver, the table `_observed` the `observation` view reads. The three lists
-- are bound in step and zipped by unnest; the instants are the manifest's ISO 8601 texts.
-- param: apiservers VARCHAR[]  -- the apiserver of each span (NULL: not stated)
-- param: firsts VARCHAR[]  -- the first instant each span observed
-- param: lasts VARCHAR[]  -- the last instant each span observed
CREATE TEMP TABLE _observed AS
SELECT
    unnest($apiservers) AS apiserver,
    CAST(unnest($firsts) AS TIMESTAMPTZ) AS first,
    CAST(unnest($lasts) AS TIMESTAMPTZ) AS last
