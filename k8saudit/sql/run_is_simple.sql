-- name: run_is_simple
-- Can each audit request of this run be one of its events, picked from the keys
-- alone (its one complete event, else pick.sql's)? Otherwise the general merge_requests.sql
-- runs over every event of the run.
--
-- No when a picked event has a twin of the same request and slot in the same file read in
-- place: rows there are told apart by key and slot only.
SELECT NOT EXISTS (SELECT 1 FROM picks WHERE _direct IS NOT NULL AND _twins > 1) AS simple
