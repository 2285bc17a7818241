-- name: access_scan_rows
-- The raw event rows of `_access_scan` (access_scan.sql, every line fit), numbered by line.
SELECT
    * EXCLUDE (_fit, _cri, _month),
    rowid + 1 AS source_line,
    0 AS _item,
    'ok' AS _status,
    NULL::VARCHAR AS _reject_text
FROM _access_scan
