-- name: merge_requests
-- Request-shaped rows (relation `rows`) -> exactly one row per request_key.
--
-- The stages of one request (RequestReceived, ResponseStarted, ResponseComplete, Panic), copies of
-- the same event, rows stored by earlier runs and the access-log line of the same audit-ID all
-- collapse here. The best audit row (latest stage) is joined with the best access-log row, and
-- each column takes the audit value when there is one, else the access-log value; the access log
-- alone knows the APF columns. A row already merged from both sources stands on both sides.
-- The per-column coalesce list is generated from schema.REQUEST_SCHEMA by merge.py.
WITH ranked AS (
    SELECT
        *,
        CASE stage WHEN 'RequestReceived' THEN 1 WHEN 'ResponseStarted' THEN 2 ELSE 3 END
            AS _stage_rank
    FROM rows
),
-- ties (copies of one event, a stored row merged earlier) break on what the row knows, then on
-- where it came from, so that the same input always gives the same row
best_audit AS (
    SELECT * FROM ranked WHERE has_audit
    QUALIFY row_number() OVER (
        PARTITION BY request_key
        ORDER BY _stage_rank DESC, has_access DESC, completed_at DESC NULLS LAST, source_file,
            source_line
    ) = 1
),
best_access AS (
    SELECT * FROM ranked WHERE has_access
    QUALIFY row_number() OVER (
        PARTITION BY request_key
        ORDER BY _stage_rank DESC, completed_at DESC NULLS LAST, source_file, source_line
    ) = 1
),
joined AS (
    SELECT
        request_key,
        /*MERGED_COLUMNS*/,
        coalesce(
            CASE WHEN a.is_complete THEN a.stage END,
            CASE WHEN x.is_complete THEN x.stage END,
            a.stage,
            x.stage
        ) AS stage,
        coalesce(a.is_complete, false) OR coalesce(x.is_complete, false) AS is_complete,
        a.request_key IS NOT NULL OR coalesce(x.has_audit, false) AS has_audit,
        x.request_key IS NOT NULL OR coalesce(a.has_access, false) AS has_access
    FROM best_audit AS a
    FULL OUTER JOIN best_access AS x USING (request_key)
)
SELECT
    *,
    received_at::DATE AS day
FROM joined
