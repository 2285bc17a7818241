-- name: audit_source_plain
-- The relation `src` over one uncompressed audit log known to be clean and without blank lines:
-- read_json numbering its lines WITH ORDINALITY (which reads on one thread). It does not count
-- the blank lines it skips and one malformed line fails the whole query: the general merge uses
-- it only for files read in place.
-- param: path VARCHAR  -- the file
-- param: source_file VARCHAR  -- the file as shown to users
-- param: columns STRUCT  -- the Event fields and their types (formats.audit_json.EVENT_COLUMNS)
SELECT
    *,
    ordinality AS _line,
    $source_file AS _source_file,
    NULL::VARCHAR AS _apiserver,
    '' AS _wrapper,
    0 AS _item,
    false AS _unparsed,
    NULL::VARCHAR AS _text
FROM read_json($path, format = 'newline_delimited', compression = 'none', columns = $columns)
    WITH ORDINALITY
