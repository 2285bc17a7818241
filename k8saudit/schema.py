"""The one normalized shape every log format is turned into.

Two schemas are the contract of the whole pipeline, each declared once as its columns' DuckDB
types (``RAW_EVENT_TYPES``, ``REQUEST_TYPES``) and given as an Arrow schema on first use:

* ``RAW_EVENT_SCHEMA`` is what a format parser emits: one row per *log event* (an audit stage event,
  one access-log line), holding only what that source states. Parsers written in Python build Arrow
  tables of exactly this schema; the audit-JSON fast path produces the same columns in SQL.
* ``REQUEST_SCHEMA`` is the table users query (DuckDB view ``requests``): one row per *API request*,
  with everything derivable (path parts, scope, client, selectors...) computed once at ingest by
  ``k8saudit/sql/derive.sql`` and the stages of a request merged by ``merge_requests.sql``.

Column names are a public contract (DESIGN.md §4): add columns, never rename them. The Arrow
schemas are built lazily because importing pyarrow costs a tenth of a second that a query
command, which reads the dataset through DuckDB into polars, does not need.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: One row per log event, as a parser sees it. Nulls mean "this source does not say".
RAW_EVENT_TYPES: dict[str, str] = dict(
    [
        ("audit_id", "VARCHAR"),
        ("stage", "VARCHAR"),  # RequestReceived | ResponseStarted | ResponseComplete | Panic
        (
            "stage_at",
            "TIMESTAMPTZ",
        ),  # when this event was written (stageTimestamp, access-log line time)
        ("received_at", "TIMESTAMPTZ"),  # requestReceivedTimestamp when the source has it
        ("level", "VARCHAR"),
        ("verb", "VARCHAR"),  # Kubernetes verb (get, list, watch...) when the source states it
        ("http_method", "VARCHAR"),  # HTTP method when only that is known (access logs)
        ("request_uri", "VARCHAR"),
        ("api_group", "VARCHAR"),
        ("api_version", "VARCHAR"),
        ("resource", "VARCHAR"),
        ("subresource", "VARCHAR"),
        ("namespace", "VARCHAR"),
        ("name", "VARCHAR"),
        ("username", "VARCHAR"),
        ("user_groups", "VARCHAR[]"),
        ("impersonated_user", "VARCHAR"),
        ("user_agent", "VARCHAR"),
        ("source_ip", "VARCHAR"),
        ("pod_name", "VARCHAR"),
        ("node_name", "VARCHAR"),
        ("code", "INTEGER"),
        ("grpc_code", "INTEGER"),  # GKE Cloud Audit Logs status.code, kept raw
        ("reason", "VARCHAR"),
        ("decision", "VARCHAR"),
        ("latency_ms", "DOUBLE"),  # when the source states it (access logs)
        ("apf_priority_level", "VARCHAR"),
        ("apf_flow_schema", "VARCHAR"),
        ("apf_initial_seats", "INTEGER"),
        ("apf_final_seats", "INTEGER"),
        ("apf_additional_latency_ms", "DOUBLE"),
        ("apf_execution_ms", "DOUBLE"),
        ("apiserver", "VARCHAR"),
        ("log_format", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_line", "BIGINT"),
        # the bodies as redacted JSON text, only with `ingest --keep-bodies` (formats.redact)
        ("request_object", "VARCHAR"),
        ("response_object", "VARCHAR"),
    ]
)

#: One row per API request: the ``requests`` view. DESIGN.md §4 names, plus additions at the end.
REQUEST_TYPES: dict[str, str] = dict(
    [
        ("audit_id", "VARCHAR"),
        ("received_at", "TIMESTAMPTZ"),
        ("completed_at", "TIMESTAMPTZ"),
        ("latency_ms", "DOUBLE"),
        ("stage", "VARCHAR"),
        ("level", "VARCHAR"),
        ("verb", "VARCHAR"),
        ("is_long_running", "BOOLEAN"),
        ("is_mutating", "BOOLEAN"),
        ("request_uri", "VARCHAR"),
        ("path", "VARCHAR"),
        ("api_group", "VARCHAR"),
        ("api_version", "VARCHAR"),
        ("resource", "VARCHAR"),
        ("subresource", "VARCHAR"),
        ("namespace", "VARCHAR"),
        ("name", "VARCHAR"),
        ("scope", "VARCHAR"),
        ("label_selector", "VARCHAR"),
        ("field_selector", "VARCHAR"),
        ("resource_version", "VARCHAR"),
        ("limit_param", "BIGINT"),
        ("is_watch", "BOOLEAN"),
        ("username", "VARCHAR"),
        ("user_groups", "VARCHAR[]"),
        ("impersonated_user", "VARCHAR"),
        ("user_agent", "VARCHAR"),
        ("client", "VARCHAR"),
        ("client_version", "VARCHAR"),
        ("source_ip", "VARCHAR"),
        ("pod_name", "VARCHAR"),
        ("node_name", "VARCHAR"),
        ("code", "INTEGER"),
        ("reason", "VARCHAR"),
        ("decision", "VARCHAR"),
        ("apf_priority_level", "VARCHAR"),
        ("apf_flow_schema", "VARCHAR"),
        ("apiserver", "VARCHAR"),
        ("log_format", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_line", "BIGINT"),
        # additions (not in DESIGN.md's first list)
        ("request_key", "VARCHAR"),  # audit_id, or a stable key for sources without one
        ("is_complete", "BOOLEAN"),  # a ResponseComplete/Panic (or access-log line) was seen
        ("identity", "VARCHAR"),  # username with node names collapsed: system:node:*
        ("http_method", "VARCHAR"),
        ("grpc_code", "INTEGER"),
        ("apf_initial_seats", "INTEGER"),
        ("apf_final_seats", "INTEGER"),
        ("apf_additional_latency_ms", "DOUBLE"),
        ("apf_execution_ms", "DOUBLE"),
        ("has_audit", "BOOLEAN"),  # seen in an audit log
        ("has_access", "BOOLEAN"),  # seen in an access log
        # requestObject / responseObject as JSON text with secret values redacted
        # (formats.redact), kept only by `ingest --keep-bodies`: NULL otherwise
        ("request_object", "VARCHAR"),
        ("response_object", "VARCHAR"),
    ]
)

REQUEST_COLUMNS: tuple[str, ...] = tuple(REQUEST_TYPES)
RAW_EVENT_COLUMNS: tuple[str, ...] = tuple(RAW_EVENT_TYPES)


@cache
def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema ``RAW_EVENT_SCHEMA`` or ``REQUEST_SCHEMA``, built on first use.

    >>> arrow_schema("REQUEST_SCHEMA").field("received_at").type
    TimestampType(timestamp[us, tz=UTC])
    """
    import pyarrow as pa

    arrow_types = {
        "VARCHAR": pa.string(),
        "VARCHAR[]": pa.list_(pa.string()),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
    }
    types = {"RAW_EVENT_SCHEMA": RAW_EVENT_TYPES, "REQUEST_SCHEMA": REQUEST_TYPES}[name]
    return pa.schema([(column, arrow_types[kind]) for column, kind in types.items()])


def empty_relation(types: dict[str, str]) -> str:
    """The SQL of a relation with no rows and the columns ``types`` (name -> DuckDB type), such as
    ``RAW_EVENT_TYPES``: a table takes its columns from it without pyarrow being imported.

    >>> empty_relation({"a": "INTEGER", "level": "VARCHAR[]"})
    'SELECT NULL::INTEGER AS "a", NULL::VARCHAR[] AS "level" LIMIT 0'
    """
    columns = ", ".join(f'NULL::{kind} AS "{name}"' for name, kind in types.items())
    return f"SELECT {columns} LIMIT 0"


def __getattr__(name: str) -> pa.Schema:
    # the Arrow schemas are built (and pyarrow imported) only when first asked for
    if name in ("RAW_EVENT_SCHEMA", "REQUEST_SCHEMA"):
        return arrow_schema(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
