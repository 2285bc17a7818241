-- name: audit_source_lines
-- The relation `src` over any audit log, line by line, numbered: exact and robust. Every
-- physical line is read by read_csv with a delimiter valid JSON never holds unescaped (U+0001)
-- and no quoting (one column per line, blank lines kept, so line numbers are exact; numbering
-- reads on one thread), then parsed with try(json_transform): a malformed line becomes a row
-- with `_unparsed` and its `_text` (a reject), a blank line a row with NULL text (skipped), a
-- field of an unexpected type a NULL field. Compressed files are read this way too.
-- param: path VARCHAR  -- the file
-- param: source_file VARCHAR  -- the file as shown to users
-- param: compression VARCHAR  -- none, gzip or zstd
-- param: schema VARCHAR  -- the json_transform structure (formats.audit_json.event_schema)
-- param: max_line BIGINT  -- the longest line read (formats.audit_json.MAX_LINE_BYTES)
SELECT
    unnest(_e),
    _e IS NULL AS _unparsed,
    CASE WHEN _e IS NULL THEN line END AS _text,
    ordinality AS _line,
    $source_file AS _source_file,
    NULL::VARCHAR AS _apiserver,
    '' AS _wrapper,
    0 AS _item
FROM (
    SELECT try(json_transform(line, $schema)) AS _e, line, ordinality
    FROM read_csv(
        $path,
        columns = {'line': 'VARCHAR'},
        header = false,
        delim = chr(1),
        quote = '',
        escape = '',
        auto_detect = false,
        strict_mode = false,
        null_padding = true,
        max_line_size = $max_line,
        buffer_size = 2 * $max_line,
        compression = $compression
    ) WITH ORDINALITY
)
