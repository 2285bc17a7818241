-- name: log_lines
-- Every physical line of the file $path as `line` (NULL when blank), unnumbered: read_csv with a
-- delimiter valid JSON never holds unescaped (U+0001) and no quoting, one column per line,
-- blank lines kept, on every core; run with preserve_insertion_order, the n-th row is line n.
-- (audit_source_lines.sql reads the same way, numbered WITH ORDINALITY, which reads on one
-- thread.)
-- param: path VARCHAR  -- the file
-- param: compression VARCHAR  -- none, gzip or zstd
-- param: max_line BIGINT  -- the longest line read (formats.audit_json.MAX_LINE_BYTES)
SELECT line
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
)
