-- name: simple_request_count
-- How many requests a simple run has: one per complete event of a request that has exactly
-- one (key_summary.sql lists the others), plus one per pick.
SELECT
    (
        SELECT count(*)
        FROM run_keys AS k
        ANTI JOIN (SELECT request_key FROM key_summary WHERE completes > 1) USING (request_key)
        WHERE is_complete(k.stage)
    ) + (SELECT count(*) FROM picks)
