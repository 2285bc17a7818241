-- name: arrow_rows
-- Raw event rows built in Python (the registered Arrow table `_raw_arrow`), all valid.
SELECT *, 'ok' AS _status, NULL::VARCHAR AS _reject_text
FROM _raw_arrow
