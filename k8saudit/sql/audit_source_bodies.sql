-- name: audit_source_bodies
-- The relation `src` of audit_events.sql when bodies are kept (`ingest --keep-bodies`): the
-- Event columns of the relation `events_read` (an audit_source_*.sql read with the body fields,
-- typed JSON) with `requestObject` and `responseObject` redacted as they are read, by the
-- function redact_body (formats.redact.register_redact_body): no secret value goes further.
SELECT * REPLACE (
    redact_body(requestObject::VARCHAR) AS requestObject,
    redact_body(responseObject::VARCHAR) AS responseObject
)
FROM events_read
