-- name: run_audit_end
-- When the last audit event of the run was received.
SELECT max(received_at) FROM run_keys
