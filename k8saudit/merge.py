"""The SQL that collapses request rows to one per request, with its column list filled in.

``sql/merge_requests.sql`` joins the best audit row of each request with its best access-log row;
which side wins is a per-column rule, so the select list is generated here from
``schema.REQUEST_SCHEMA`` (never from input data) to stay in step with the schema.
"""

from __future__ import annotations

from functools import cache

from k8saudit.schema import REQUEST_COLUMNS
from k8saudit.sqlfiles import internal_sql

#: columns only an access log states: the access-log value wins over the audit one
ACCESS_FIRST = frozenset(
    {
        "apf_priority_level",
        "apf_flow_schema",
        "apf_initial_seats",
        "apf_final_seats",
        "apf_additional_latency_ms",
        "apf_execution_ms",
    }
)
#: columns the merge query computes itself
COMPUTED = frozenset({"request_key", "stage", "is_complete", "has_audit", "has_access"})


@cache
def merge_sql() -> str:
    """``merge_requests.sql`` over relation ``rows``, yielding REQUEST columns plus ``day``."""
    merged = []
    for column in REQUEST_COLUMNS:
        if column in COMPUTED:
            continue
        first, second = ("x", "a") if column in ACCESS_FIRST else ("a", "x")
        merged.append(f'coalesce({first}."{column}", {second}."{column}") AS "{column}"')
    body = internal_sql("merge_requests").replace("/*MERGED_COLUMNS*/", ",\n        ".join(merged))
    columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    return f"SELECT {columns}, day FROM ({body})"
