-- merge_requests: request-shaped rows (relation `rows`) -> exactly one row per request_key.
--
-- The stages of one request (RequestReceived, ResponseStarted, ResponseComplete, Panic), copies of
-- the same event, and the access-log line of the same audit-ID all collapse here, whichever file
-- or ingest run they came from. Each column takes its value from the most authoritative row that
-- has one (arg_max skips NULLs): audit events outrank access-log lines, later stages outrank
-- earlier ones; the access log still fills what audit events never carry (APF columns).
WITH ranked AS (
    SELECT
        *,
        CASE stage
            WHEN 'RequestReceived' THEN 1 WHEN 'ResponseStarted' THEN 2 ELSE 3
        END AS _stage_rank,
        CASE WHEN has_audit THEN 1 + _stage_rank ELSE 1 END AS _rank
    FROM rows
),
merged AS (
    SELECT
        request_key,
        arg_max(
            COLUMNS(* EXCLUDE (
                request_key, stage, is_complete, has_audit, has_access, _stage_rank, _rank
            )),
            _rank
        ),
        arg_max(stage, _stage_rank) AS stage,
        bool_or(is_complete) AS is_complete,
        bool_or(has_audit) AS has_audit,
        bool_or(has_access) AS has_access
    FROM ranked
    GROUP BY request_key
)
SELECT
    *,
    coalesce(strftime(received_at, '%Y-%m-%d'), 'unknown') AS day
FROM merged
