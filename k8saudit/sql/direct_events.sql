-- name: direct_events
-- The events of files read in place that a simple run keeps, with their lines.
--
-- Reads the relation `events` (audit_events.sql over read_json of the files; `source_file` is
-- the path read_json reports) and the tables direct_keys, direct_files, key_summary and picks.
-- A file's rows carry no line numbers: each wanted event is found again by its file, audit ID
-- and *slot* ('' for a complete event, else its stage): the request's one complete event, or
-- the row pick.sql chose, whose line the keys pass recorded. Everything else (the earlier stages of complete requests) finds
-- no slot and is dropped. Only rows the slots can want reach the join: complete events, and the
-- latest stages of open requests (ResponseStarted is rare; the others come at the end of the
-- logs, from $open_from on).
-- param: day DATE = NULL  -- the day written
-- param: open_from TIMESTAMPTZ = NULL  -- the earliest open request read in place that is not ResponseStarted
WITH slots AS (
    SELECT _batch, audit_id, '' AS slot, source_line
    FROM direct_keys
    ANTI JOIN (SELECT request_key FROM key_summary WHERE completes > 1) AS copied
        ON copied.request_key = direct_keys.audit_id
    WHERE is_complete(stage)
    UNION ALL
    SELECT _direct, request_key, _slot, source_line
    FROM picks
    WHERE _direct IS NOT NULL
)
SELECT
    e.* EXCLUDE (_status, _reject_text)
        REPLACE (
            f.display AS source_file,
            k.source_line AS source_line,
            coalesce(e.apiserver, f.apiserver) AS apiserver
        ),
    e.audit_id AS request_key
FROM events AS e
JOIN direct_files AS f ON e.source_file = f.path
JOIN slots AS k
    ON k._batch = f._batch
    AND k.audit_id = e.audit_id
    AND k.slot = CASE
        WHEN is_complete(e.stage) THEN ''
        ELSE e.stage
    END
WHERE e.received_at::DATE IS NOT DISTINCT FROM $day
    AND (
        is_complete(e.stage)
        OR e.stage = 'ResponseStarted'
        OR e.received_at IS NULL
        OR e.received_at >= $open_from
    )
