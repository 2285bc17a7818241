-- name: audit_source_unwrapped
-- The relation `src` over the temporary file the unwrapper writes (readers: EKS, AKS, EventList,
-- YAML...): its lines are Events k8saudit itself wrote, each carrying `_line` (where it was in
-- the source), `_item` (its rank among the Events of that line), `_apiserver` and `_wrapper`.
-- Reads the relation `lines` (log_lines.sql).
-- param: source_file VARCHAR  -- the source file as shown to users
-- param: schema VARCHAR  -- the json_transform structure, injected columns included
SELECT unnest(_e), false AS _unparsed, NULL::VARCHAR AS _text, $source_file AS _source_file
FROM (SELECT json_transform(line, $schema) AS _e FROM lines)
