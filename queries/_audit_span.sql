-- name: _audit_span
-- For `--source auto`: the period the audit logs cover, when access-log requests without an
-- audit-ID exist (those inside it are the audit log's requests seen a second time), else NULLs.
-- One row, read by the `audit_from` and `audit_to` parameters of `_filters.sql`.
WITH span AS (
    SELECT
        min(received_at) FILTER (WHERE has_audit) AS audit_from,
        max(received_at) FILTER (WHERE has_audit) AS audit_to,
        coalesce(bool_or(NOT has_audit AND audit_id IS NULL), false) AS unjoined
    FROM requests
)
SELECT
    CASE WHEN unjoined THEN audit_from END AS audit_from,
    CASE WHEN unjoined THEN audit_to END AS audit_to
FROM span
