-- name: _audit_span
-- For `--source auto`: the period the audit logs cover, when access-log requests without an
-- audit-ID exist (those inside it are the audit log's requests seen a second time), else NULLs.
-- One row, read by the `audit_from` and `audit_to` parameters of `_filters.sql`. Both scans are
-- filters DuckDB pushes into the Parquet reader, so row groups whose statistics rule them out
-- (all audit-logged, no NULL audit-ID) are skipped: no column is read in full.
WITH unjoined AS (
    SELECT EXISTS (SELECT 1 FROM requests WHERE NOT has_audit AND audit_id IS NULL) AS found
)
SELECT min(received_at) AS audit_from, max(received_at) AS audit_to
FROM requests
WHERE has_audit AND (SELECT found FROM unjoined)
