-- name: audit_source_in_place
-- The relation `src` over audit logs read in place, all of one compression: the fastest reader,
-- read_json on every core, with no line numbers (`_line` is NULL) and each file's path as
-- `_source_file`. Run with preserve_insertion_order it yields each file's events in file order.
-- One malformed line fails the whole query, and blank lines are skipped silently: the caller
-- checks the row count against the file's line count.
-- param: paths VARCHAR[]  -- the files
-- param: compression VARCHAR  -- none, gzip or zstd: read_json is told, never left to guess
-- param: columns STRUCT  -- the Event fields and their types (formats.audit_json.EVENT_COLUMNS)
SELECT
    *,
    NULL::BIGINT AS _line,
    filename AS _source_file,
    NULL::VARCHAR AS _apiserver,
    '' AS _wrapper,
    0 AS _item,
    false AS _unparsed,
    NULL::VARCHAR AS _text
FROM read_json(
    $paths,
    filename = true,
    format = 'newline_delimited',
    compression = $compression,
    columns = $columns
)
