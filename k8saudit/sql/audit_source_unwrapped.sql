-- name: audit_source_unwrapped
-- The relation `src` over the temporary file the unwrapper writes (readers: EKS, AKS, EventList,
-- YAML...): its lines are Events k8saudit itself wrote, each carrying `_line` (where it was in
-- the source), `_item` (its rank among the Events of that line), `_apiserver` and `_wrapper`.
-- param: path VARCHAR  -- the temporary file
-- param: source_file VARCHAR  -- the source file as shown to users
-- param: schema VARCHAR  -- the json_transform structure, injected columns included
-- param: max_line BIGINT  -- the longest line read (formats.audit_json.MAX_LINE_BYTES)
SELECT unnest(_e), false AS _unparsed, NULL::VARCHAR AS _text, $source_file AS _source_file
FROM (
    SELECT json_transform(line, $schema) AS _e
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
        compression = 'none'
    )
)
