-- name: access_files
-- The access logs of a run read whole in one pass (access_requests.sql), one row per file: its
-- batch and the apiserver its path names, if any (ingestion.apiservers), which the requests
-- that name none went to.
CREATE TABLE access_files (_batch INTEGER, apiserver VARCHAR)
