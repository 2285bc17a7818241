-- name: audit_key_lines
-- The relation `src` of the keys pass over an audit log read line by line (compressed, or with
-- blank lines): like audit_source_lines.sql, but unnumbered (read on every core; run with
-- preserve_insertion_order, the n-th row is line n) and parsing only the key fields
-- (formats.audit_json.KEY_FIELDS) that audit_keys.sql reads.
-- Reads the relation `lines` (log_lines.sql).
-- param: source_file VARCHAR  -- the file as shown to users
-- param: schema VARCHAR  -- the json_transform structure of the key fields
SELECT
    unnest(_e),
    _e IS NULL AS _unparsed,
    CASE WHEN _e IS NULL THEN line END AS _text,
    $source_file AS _source_file
FROM (SELECT try(json_transform(line, $schema)) AS _e, line FROM lines)
