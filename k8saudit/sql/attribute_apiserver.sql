-- name: attribute_apiserver
-- The requests of the batches after $mark that do not say which apiserver they went to went to
-- $apiserver (the file's, ingestion.apiservers): staged rows, and files read in place.
-- param: mark INTEGER  -- the last batch before the file's
-- param: apiserver VARCHAR  -- the apiserver the file's path names, or --apiserver
UPDATE staged SET apiserver = $apiserver WHERE _batch > $mark AND apiserver IS NULL;
UPDATE direct_files SET apiserver = $apiserver WHERE _batch > $mark;
