-- name: audit_source_no_bodies
-- The relation `src` of audit_events.sql when bodies are not kept (the default): the Event
-- columns of the relation `events_read` (an audit_source_*.sql read without the body fields,
-- which are then never parsed) and NULL bodies.
SELECT *, NULL::VARCHAR AS requestObject, NULL::VARCHAR AS responseObject
FROM events_read
