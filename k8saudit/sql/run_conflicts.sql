-- name: run_conflicts
-- How many audit IDs of this run have complete events (ResponseComplete, Panic) that conflict:
-- copies that disagree on when the request was received or completed. Exact copies (the same
-- event in overlapping exports, or in the logs of two apiservers) are no conflict. One of them
-- speaks for the request all the same, by pick.sql's rule (the latest completion, then the
-- first in file order); the ingest summary counts the IDs as conflicts. Events without an audit
-- ID (keyed by content, '~...') cannot conflict. Only a request with more than one complete
-- event can (key_summary.sql lists them): the others are not grouped at all.
SELECT count(*)
FROM (
    SELECT request_key
    FROM (
        SELECT request_key, stage, stage_at, received_at
        FROM staged
        WHERE _status = 'ok' AND NOT starts_with(log_format, 'httplog')
        UNION ALL
        SELECT audit_id, stage::VARCHAR, stage_at, received_at
        FROM direct_keys
    ) AS complete
    SEMI JOIN (SELECT request_key FROM key_summary WHERE completes > 1) AS copied
        USING (request_key)
    WHERE is_complete(stage) AND stage IS NOT NULL AND NOT starts_with(request_key, '~')
    GROUP BY request_key
    HAVING count(DISTINCT (received_at, stage_at)) > 1
)
