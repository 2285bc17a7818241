-- name: attribute_restaged
-- The files read in place that the general merge staged again keep the apiserver their path
-- names.
UPDATE staged SET apiserver = f.apiserver
FROM direct_files AS f
WHERE staged.apiserver IS NULL AND staged.source_file = f.display AND f.apiserver IS NOT NULL
