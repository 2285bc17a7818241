"""The one normalized shape every log format is turned into.

Two Arrow schemas are the contract of the whole pipeline:

* ``RAW_EVENT_SCHEMA`` is what a format parser emits: one row per *log event* (an audit stage event,
  one access-log line), holding only what that source states. Parsers written in Python build Arrow
  tables of exactly this schema; the audit-JSON fast path produces the same columns in SQL.
* ``REQUEST_SCHEMA`` is the table users query (DuckDB view ``requests``): one row per *API request*,
  with everything derivable (path parts, scope, client, selectors...) computed once at ingest by
  ``k8saudit/sql/derive.sql`` and the stages of a request merged by ``merge_requests.sql``.

Column names are a public contract (DESIGN.md §4): add columns, never rename them.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

#: One row per log event, as a parser sees it. Nulls mean "this source does not say".
RAW_EVENT_SCHEMA = pa.schema(
    [
        ("audit_id", pa.string()),
        ("stage", pa.string()),  # RequestReceived | ResponseStarted | ResponseComplete | Panic
        ("stage_at", TS),  # when this event was written (stageTimestamp, access-log line time)
        ("received_at", TS),  # requestReceivedTimestamp when the source has it
        ("level", pa.string()),
        ("verb", pa.string()),  # Kubernetes verb (get, list, watch...) when the source states it
        ("http_method", pa.string()),  # HTTP method when only that is known (access logs)
        ("request_uri", pa.string()),
        ("api_group", pa.string()),
        ("api_version", pa.string()),
        ("resource", pa.string()),
        ("subresource", pa.string()),
        ("namespace", pa.string()),
        ("name", pa.string()),
        ("username", pa.string()),
        ("user_groups", pa.list_(pa.string())),
        ("impersonated_user", pa.string()),
        ("user_agent", pa.string()),
        ("source_ip", pa.string()),
        ("pod_name", pa.string()),
        ("node_name", pa.string()),
        ("code", pa.int32()),
        ("grpc_code", pa.int32()),  # GKE Cloud Audit Logs status.code, kept raw
        ("reason", pa.string()),
        ("decision", pa.string()),
        ("latency_ms", pa.float64()),  # when the source states it (access logs)
        ("apf_priority_level", pa.string()),
        ("apf_flow_schema", pa.string()),
        ("apf_initial_seats", pa.int32()),
        ("apf_final_seats", pa.int32()),
        ("apf_additional_latency_ms", pa.float64()),
        ("apf_execution_ms", pa.float64()),
        ("apiserver", pa.string()),
        ("log_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        # the bodies as redacted JSON text, only with `ingest --keep-bodies` (formats.redact)
        ("request_object", pa.string()),
        ("response_object", pa.string()),
    ]
)

#: One row per API request: the ``requests`` view. DESIGN.md §4 names, plus additions at the end.
REQUEST_SCHEMA = pa.schema(
    [
        ("audit_id", pa.string()),
        ("received_at", TS),
        ("completed_at", TS),
        ("latency_ms", pa.float64()),
        ("stage", pa.string()),
        ("level", pa.string()),
        ("verb", pa.string()),
        ("is_long_running", pa.bool_()),
        ("is_mutating", pa.bool_()),
        ("request_uri", pa.string()),
        ("path", pa.string()),
        ("api_group", pa.string()),
        ("api_version", pa.string()),
        ("resource", pa.string()),
        ("subresource", pa.string()),
        ("namespace", pa.string()),
        ("name", pa.string()),
        ("scope", pa.string()),
        ("label_selector", pa.string()),
        ("field_selector", pa.string()),
        ("resource_version", pa.string()),
        ("limit_param", pa.int64()),
        ("is_watch", pa.bool_()),
        ("username", pa.string()),
        ("user_groups", pa.list_(pa.string())),
        ("impersonated_user", pa.string()),
        ("user_agent", pa.string()),
        ("client", pa.string()),
        ("client_version", pa.string()),
        ("source_ip", pa.string()),
        ("pod_name", pa.string()),
        ("node_name", pa.string()),
        ("code", pa.int32()),
        ("reason", pa.string()),
        ("decision", pa.string()),
        ("apf_priority_level", pa.string()),
        ("apf_flow_schema", pa.string()),
        ("apiserver", pa.string()),
        ("log_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        # additions (not in DESIGN.md's first list)
        ("request_key", pa.string()),  # audit_id, or a stable key for sources without one
        ("is_complete", pa.bool_()),  # a ResponseComplete/Panic (or access-log line) was seen
        ("identity", pa.string()),  # username with node names collapsed: system:node:*
        ("http_method", pa.string()),
        ("grpc_code", pa.int32()),
        ("apf_initial_seats", pa.int32()),
        ("apf_final_seats", pa.int32()),
        ("apf_additional_latency_ms", pa.float64()),
        ("apf_execution_ms", pa.float64()),
        ("has_audit", pa.bool_()),  # seen in an audit log
        ("has_access", pa.bool_()),  # seen in an access log
        # requestObject / responseObject as JSON text with secret values redacted
        # (formats.redact), kept only by `ingest --keep-bodies`: NULL otherwise
        ("request_object", pa.string()),
        ("response_object", pa.string()),
    ]
)

REQUEST_COLUMNS: tuple[str, ...] = tuple(REQUEST_SCHEMA.names)
RAW_EVENT_COLUMNS: tuple[str, ...] = tuple(RAW_EVENT_SCHEMA.names)
